from allauth.account.adapter import get_adapter
from allauth.account.forms import ResetPasswordForm
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class PasswordResetForm(ResetPasswordForm):
    """allauth's reset form, answering an unknown email exactly as a known one.

    Sign-up says when an email is taken (ACCOUNT_PREVENT_ENUMERATION is off for that), but a
    reset request must not tell who has an account: an unknown address gets allauth's "no
    account here" email instead of an error on the page.
    """

    def clean_email(self) -> str:
        try:
            return super().clean_email()
        except ValidationError as exc:
            if exc.code != "unknown_email":
                raise
            return self.cleaned_data["email"]  # self.users is empty: save() sends that email


class AccountDeleteForm(forms.Form):
    """Deleting an account asks for the password again, whoever left the session open."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        # Through allauth, so that guesses count against its login limits.
        if not get_adapter().reauthenticate(self.user, password):
            raise ValidationError(_("The password is wrong."), code="wrong_password")
        return password
