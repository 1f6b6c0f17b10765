from django.urls import path

from alerts.api import AlertDetailApi, AlertHitsApi, AlertListApi
from alerts.watchlist.api import WatchlistApi, WatchlistDetailApi

urlpatterns = [
    path("alerts/", AlertListApi.as_view(), name="alerts"),
    path("alerts/<int:alert_id>/", AlertDetailApi.as_view(), name="alert_detail"),
    path("alerts/<int:alert_id>/hits/", AlertHitsApi.as_view(), name="alert_hits"),
    path("watchlist/", WatchlistApi.as_view(), name="watchlist"),
    path("watchlist/<str:code>/", WatchlistDetailApi.as_view(), name="watchlist_detail"),
]
