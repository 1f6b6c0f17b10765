from django.urls import path

from alerts import views
from alerts.watchlist import views as watchlist_views

urlpatterns = [
    path("account/alerts/", views.alert_list, name="alerts"),
    path("account/watchlist/", watchlist_views.watchlist, name="watchlist"),
    path("account/watchlist/add/", watchlist_views.watchlist_add, name="watchlist_add"),
    path("account/watchlist/remove/", watchlist_views.watchlist_remove, name="watchlist_remove"),
    path("account/alerts/new/", views.alert_create, name="alert_create"),
    path("account/alerts/channels/", views.alert_channels, name="alert_channels"),
    *(
        path(
            f"account/alerts/<int:alert_id>/{action}/",
            views.alert_change,
            {"action": action},
            name=f"alert_{action}",
        )
        for action in views.ALERT_ACTIONS
    ),
    path("alerts/unsubscribe/<str:token>/", views.alerts_unsubscribe, name="alerts_unsubscribe"),
    path("line/webhook/", views.line_webhook, name="line_webhook"),
    path("line/link/", views.line_link, name="line_link"),
    path("line/unlink/", views.line_unlink, name="line_unlink"),
]
