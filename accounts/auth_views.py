"""django-allauth's views, answering an invalid form with 400 instead of 200.

The page is the same (the form with its messages); the status tells scripts and monitoring that
the request was refused.
"""

from allauth.account import views as allauth_views
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
