from django.apps import apps
from django.db import transaction

from accounts.models import User


def _token_model():
    # DRF's authtoken model, looked up through Django's app registry: services stay free of DRF.
    return apps.get_model("authtoken", "Token")


@transaction.atomic
def api_token_rotate(*, user: User):
    """Replace the user's API token with a new one; the old key stops working at once."""
    token_model = _token_model()
    token_model.objects.filter(user=user).delete()
    return token_model.objects.create(user=user)


@transaction.atomic
def api_token_revoke(*, user: User) -> None:
    _token_model().objects.filter(user=user).delete()


def user_language_set(*, user: User, language: str) -> None:
    """Save the language the user chose with the switcher, for their next visits anywhere."""
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
