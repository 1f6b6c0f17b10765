from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.models import ApiToken
from accounts.tokens import key_digest, password_is_unchanged
from billing.entitlements import api_access_for
from core.errors import PaymentRequiredError


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, looked up by the key's digest.

    A key stops working when the user changes or resets the password, and answers 402 while the
    user's plan (a subscription or a complimentary grant) no longer includes the API.
    """

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(digest=key_digest(key)).first()
        if (
            token is None
            or not token.user.is_active
            or not password_is_unchanged(token=token, user=token.user)
        ):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not api_access_for(user=token.user):
            raise PaymentRequiredError(_("The API comes with the Pro plan: see /pricing/."))
        return (token.user, token)
