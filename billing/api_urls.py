from django.urls import path

from billing.api import MeApi, TokenApi

urlpatterns = [
    path("me/", MeApi.as_view(), name="me"),
    path("auth/token/", TokenApi.as_view(), name="auth_token"),
]
