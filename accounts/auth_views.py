"""django-allauth's views, answering an invalid form with 400 instead of 200, and the admin's
sign-in through allauth with a second factor.

The page is the same (the form with its messages); the status tells scripts and monitoring that
the request was refused.
"""

import time
from functools import wraps
from urllib.parse import urlencode

from allauth.account import app_settings as account_settings
from allauth.account import views as allauth_views
from allauth.account.authentication import get_authentication_records
from allauth.account.decorators import secure_admin_login
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.totp import views as totp_views
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from rest_framework import status

from accounts.services import second_factor_changed


class InvalidFormIs400Mixin:
    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response


class SignupView(InvalidFormIs400Mixin, allauth_views.SignupView):
    pass


class LoginView(InvalidFormIs400Mixin, allauth_views.LoginView):
    pass


class PasswordChangeView(InvalidFormIs400Mixin, allauth_views.PasswordChangeView):
    pass


class PasswordResetView(InvalidFormIs400Mixin, allauth_views.PasswordResetView):
    pass


def session_passed_second_factor(request) -> bool:
    """Whether this session itself passed a second factor (allauth's record of the session's
    authentication steps), not merely whether the account has one."""
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


def admin_has_permission(request) -> bool:
    """The admin is for active staff whose session passed a second factor (allauth.mfa)."""
    user = request.user
    return (
        user.is_active
        and user.is_staff
        and is_mfa_enabled(user)
        and session_passed_second_factor(request)
    )


def admin_login(admin_login_view):
    """The admin's sign-in goes through allauth's login (its rate limits and lockout, and the
    second-factor step); staff without a second factor are sent to set one up, staff signed in
    without passing theirs to pass it."""
    secured = secure_admin_login(admin_login_view)

    @wraps(admin_login_view)
    def view(request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and user.is_active and user.is_staff:
            if not is_mfa_enabled(user):
                messages.warning(
                    request,
                    _("The admin needs two-factor authentication: set it up, then open the admin."),
                )
                _password_just_given_counts_as_reauthentication(request)
                return redirect("mfa_activate_totp")
            if not session_passed_second_factor(request):
                return redirect(
                    f"{reverse('mfa_reauthenticate')}?{urlencode({'next': reverse('admin:index')})}"
                )
        return secured(request, *args, **kwargs)

    return view


def second_factor_added(request, user, authenticator) -> None:
    """A factor set up in this session: the code entered proves it, so the session counts as
    having passed it; the user's other sessions and API tokens end."""
    second_factor_changed(user=user)
    update_session_auth_hash(request, user)
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)


def second_factor_removed(request, user) -> None:
    second_factor_changed(user=user)
    update_session_auth_hash(request, user)


def _password_just_given_counts_as_reauthentication(request) -> None:
    """Staff sent from the admin's sign-in to set up a second factor typed their password moments
    ago: allauth would ask for it again (it counts only explicit re-authentications), so a
    password sign-in of this session within ACCOUNT_REAUTHENTICATION_TIMEOUT counts as one."""
    records = get_authentication_records(request, request.user)
    if not records or records[-1].get("method") != "password":
        return
    if time.time() - records[-1]["at"] < account_settings.REAUTHENTICATION_TIMEOUT:
        record_authentication(request, request.user, method="password", reauthenticated=True)


@method_decorator(never_cache, name="dispatch")
class ActivateTOTPView(totp_views.ActivateTOTPView):
    """allauth's TOTP set-up (it shows the secret: never cached): staff go on to the admin when
    it is done (a message links the recovery codes), everyone else to their recovery codes."""

    def get_success_url(self) -> str:
        if self.request.user.is_staff:
            message = _(
                "Two-factor authentication is on. Keep your recovery codes somewhere safe: "
                '<a href="{url}">show them</a>.'
            )
            messages.success(
                self.request, format_html(message, url=reverse("mfa_view_recovery_codes"))
            )
            return reverse("admin:index")
        return super().get_success_url()
