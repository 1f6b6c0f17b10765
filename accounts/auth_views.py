"""django-allauth's views, answering an invalid form with 400 instead of 200, and the admin's
sign-in through allauth with a second factor.

The page is the same (the form with its messages); the status tells scripts and monitoring that
the request was refused.
"""

from functools import wraps

from allauth.account import views as allauth_views
from allauth.account.decorators import secure_admin_login
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from rest_framework import status


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


def admin_has_permission(request) -> bool:
    """The admin is for active staff with a second factor (allauth.mfa) on their account."""
    user = request.user
    return user.is_active and user.is_staff and is_mfa_enabled(user)


def admin_login(admin_login_view):
    """The admin's sign-in goes through allauth's login (its rate limits and lockout, and the
    second-factor step); staff without a second factor are sent to set one up."""
    secured = secure_admin_login(admin_login_view)

    @wraps(admin_login_view)
    def view(request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and user.is_active and user.is_staff and not is_mfa_enabled(user):
            messages.warning(
                request,
                _("The admin needs two-factor authentication: set it up, then open the admin."),
            )
            return redirect("mfa_activate_totp")
        return secured(request, *args, **kwargs)

    return view
