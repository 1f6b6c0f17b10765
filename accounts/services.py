from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.signals import account_deleting
from accounts.tokens import HINT_LENGTH, key_digest, key_generate


@transaction.atomic
def api_token_rotate(*, user: User) -> str:
    """Replace the user's API token with a new one and return its key, which is not stored:
    show it now or never. The old key stops working at once."""
    key = key_generate()
    ApiToken.objects.update_or_create(
        user=user,
        defaults={
            "digest": key_digest(key),
            "hint": key[:HINT_LENGTH],
            "password_hash": user.get_session_auth_hash(),
        },
    )
    return key


@transaction.atomic
def api_token_revoke(*, user: User) -> None:
    ApiToken.objects.filter(user=user).delete()


@transaction.atomic
def second_factor_changed(*, user: User) -> None:
    """A second factor was added or removed: every session of the user ends but the one the
    caller keeps (with `update_session_auth_hash`), and the API tokens are revoked."""
    user.second_factor_changed_at = timezone.now()
    user.save(update_fields=["second_factor_changed_at"])
    api_token_revoke(user=user)


def account_delete(*, user: User) -> None:
    """Delete a user and everything that is theirs (saved searches, tokens, billing rows, second
    factors). The apps above are asked first (account_deleting): billing ends the Stripe
    customer, so that no subscription keeps charging."""
    account_deleting.send(sender=User, user=user)
    with transaction.atomic():
        user.delete()


def user_language_set(*, user: User, language: str) -> None:
    """Save the language the user chose with the switcher, for their next visits anywhere."""
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
