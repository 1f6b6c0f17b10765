from django.urls import path

from alerts import views

urlpatterns = [
    path("account/alerts/", views.alert_list, name="alerts"),
    path("account/alerts/new/", views.alert_create, name="alert_create"),
    path("account/alerts/mails/", views.alert_mails, name="alert_mails"),
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
]
