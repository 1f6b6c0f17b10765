from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.account, name="account"),
    path("token/rotate/", views.api_token_rotate, name="api_token_rotate"),
    path("token/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("export/", views.account_export, name="account_export"),
    path("delete/", views.account_delete, name="account_delete"),
]
