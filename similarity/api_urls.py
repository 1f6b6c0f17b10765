from django.urls import path

from similarity.api import SavedSearchDetailApi, SavedSearchListApi, SavedSearchRerunApi, SearchApi

urlpatterns = [
    path("search/", SearchApi.as_view(), name="search"),
    path("searches/", SavedSearchListApi.as_view(), name="searches"),
    path("searches/<str:search_id>/", SavedSearchDetailApi.as_view(), name="search_detail"),
    path("searches/<str:search_id>/rerun/", SavedSearchRerunApi.as_view(), name="search_rerun"),
]
