from django.urls import path

from similarity import views

urlpatterns = [
    path("", views.search, name="search"),
    path("history/", views.search_history, name="search_history"),
    path("latest-bars/", views.search_latest_bars, name="search_latest_bars"),
    path("prices/preview/", views.prices_preview, name="prices_preview"),
    path("results/<uuid:search_id>/", views.search_result, name="search_result"),
    path("results/<uuid:search_id>/export.csv", views.search_export, name="search_export"),
    path("results/<uuid:search_id>/rerun/", views.search_rerun, name="search_rerun"),
]
