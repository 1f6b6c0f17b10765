from allauth.account.forms import ResetPasswordForm
from django.core.exceptions import ValidationError


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
