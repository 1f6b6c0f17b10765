from django.urls import include, path

from billing import views

billing_patterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("success/", views.checkout_success, name="success"),
    path("portal/", views.portal, name="portal"),
    path("webhook/", views.webhook, name="webhook"),
]

urlpatterns = [
    path("pricing/", views.pricing, name="pricing"),
    path("account/", views.account, name="account"),
    path("account/token/rotate/", views.api_token_rotate, name="api_token_rotate"),
    path("account/token/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("billing/", include((billing_patterns, "billing"))),
]
