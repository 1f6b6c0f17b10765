from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.models import User


@transaction.atomic
def api_token_rotate(*, user: User) -> Token:
    """Replace the user's API token with a new one; the old key stops working at once."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


@transaction.atomic
def api_token_revoke(*, user: User) -> None:
    Token.objects.filter(user=user).delete()


def user_language_set(*, user: User, language: str) -> None:
    """Save the language the user chose with the switcher, for their next visits anywhere."""
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
