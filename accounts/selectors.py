from accounts.models import ApiToken, User


def api_token_get(*, user: User) -> ApiToken | None:
    return ApiToken.objects.filter(user=user).first()


def account_data_export(*, user: User) -> dict:
    """What accounts keep about a user, as JSON-ready data: the first sections of the account
    page's download (stocksite.account gathers the other apps' sections)."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    token = api_token_get(user=user)
    return {
        "profile": {
            "email": user.email,
            "name": user.full_name,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
            "language": user.language,
        },
        "email_addresses": list(
            EmailAddress.objects.filter(user=user).values("email", "verified", "primary")
        ),
        "two_factor_methods": sorted(
            Authenticator.objects.filter(user=user).values_list("type", flat=True)
        ),
        "api_token": (
            {"starts_with": token.hint, "created": token.created_at.isoformat()} if token else None
        ),
    }
