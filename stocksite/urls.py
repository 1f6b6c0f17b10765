from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_page
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from accounts import auth_views
from accounts import views as account_views
from similarity import views as similarity_views
from stocksite import app, views

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("", include("billing.api_urls")),
    path("", include("similarity.api.urls")),
    path("", include("market.api_urls")),
    path("", include("alerts.api_urls")),
]

# Before admin.site.urls is read below: it binds the login view.
admin.site.login = auth_views.admin_login(admin.site.login)
admin.site.has_permission = auth_views.admin_has_permission

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("manifest.webmanifest", app.web_manifest, name="web_manifest"),
    path("sw.js", app.service_worker, name="service_worker"),
    path("offline/", app.offline, name="offline"),
    path("status/", views.status_page, name="status"),
    path("legal/terms/", views.legal_terms, name="legal_terms"),
    path("legal/privacy/", views.legal_privacy, name="legal_privacy"),
    path("legal/commerce/", views.legal_commerce, name="legal_commerce"),
    # The translations our scripts use (gettext, ngettext, interpolate), per active language.
    path(
        "jsi18n/",
        cache_page(3600)(JavaScriptCatalog.as_view()),
        name="javascript-catalog",
    ),
    path("i18n/setlang/", account_views.language_set, name="set_language"),
    path("accounts/signup/", auth_views.SignupView.as_view(), name="account_signup"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="account_login"),
    path(
        "accounts/password/change/",
        auth_views.PasswordChangeView.as_view(),
        name="account_change_password",
    ),
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(),
        name="account_reset_password",
    ),
    path(
        "accounts/2fa/totp/activate/",
        auth_views.ActivateTOTPView.as_view(),
        name="mfa_activate_totp",
    ),
    path("accounts/", include("allauth.urls")),
    path("", include("alerts.urls")),
    path("account/track-record/", similarity_views.track_record, name="track_record"),
    path("account/export/", views.account_export, name="account_export"),
    path("account/", include("accounts.urls")),
    path("calibration/", similarity_views.calibration, name="calibration"),
    path("", include("billing.urls")),
    path("stocks/", include("market.urls")),
    path("search/", include("similarity.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
]

admin.site.site_header = _("stocksite admin")
admin.site.site_title = _("stocksite admin")
admin.site.index_title = _("Operations")

handler404 = "stocksite.views.page_not_found"
handler500 = "stocksite.views.server_error"
