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

        from allauth.mfa import signals

        signals.authenticator_added.connect(_authenticator_added, dispatch_uid="accounts.mfa_add")
        signals.authenticator_removed.connect(
            _authenticator_removed, dispatch_uid="accounts.mfa_remove"
        )


# allauth's MFA flows announce a factor added or removed only through these signals.
def _authenticator_added(sender, request, user, authenticator, **kwargs):
    from accounts.auth_views import second_factor_added

    second_factor_added(request, user, authenticator)


def _authenticator_removed(sender, request, user, authenticator, **kwargs):
    from accounts.auth_views import second_factor_removed

    second_factor_removed(request, user)
