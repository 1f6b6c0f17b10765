from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Users and sign-in")

    def ready(self):
        # allauth's MFA model has no verbose names, so the admin would title it "Authenticators"
        # in every language: give it translatable ones (two-factor is the accounts' own).
        from allauth.mfa.models import Authenticator

        Authenticator._meta.verbose_name = _("authenticator")
        Authenticator._meta.verbose_name_plural = _("authenticators")
