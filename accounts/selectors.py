from accounts.models import ApiToken, User


def api_token_get(*, user: User) -> ApiToken | None:
    return ApiToken.objects.filter(user=user).first()
