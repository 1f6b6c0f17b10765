from django.urls import path

from similarity.api.views import (
    CalibrationApi,
    SavedSearchDetailApi,
    SavedSearchListApi,
    SavedSearchRerunApi,
    SearchApi,
    TrackRecordApi,
)

urlpatterns = [
    path("search/", SearchApi.as_view(), name="search"),
    path("searches/", SavedSearchListApi.as_view(), name="searches"),
    path("searches/<str:search_id>/", SavedSearchDetailApi.as_view(), name="search_detail"),
    path("searches/<str:search_id>/rerun/", SavedSearchRerunApi.as_view(), name="search_rerun"),
    path("calibration/", CalibrationApi.as_view(), name="calibration"),
    path("track-record/", TrackRecordApi.as_view(), name="track_record"),
]
