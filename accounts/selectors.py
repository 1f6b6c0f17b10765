from accounts.models import ApiToken, User


def api_token_get(*, user: User) -> ApiToken | None:
    return ApiToken.objects.filter(user=user).first()


def account_data_export(*, user: User) -> dict:
    """Everything stocksite keeps about a user, as JSON-ready data (the account page's download)."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    from alerts.models import Alert, LineLink
    from billing.models import ComplimentaryGrant, Subscription
    from similarity.models import SavedSearch

    token = api_token_get(user=user)
    return {
        "profile": {
            "email": user.email,
            "name": user.full_name,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
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
        "subscriptions": [
            {
                "plan": subscription.plan.name if subscription.plan else None,
                "status": subscription.status,
                "current_period_end": subscription.current_period_end,
                "ended_at": subscription.ended_at,
            }
            for subscription in Subscription.objects.filter(user=user).select_related("plan")
        ],
        "complimentary_plans": [
            {"plan": grant.plan.name, "starts": grant.starts_at, "ends": grant.ends_at}
            for grant in ComplimentaryGrant.objects.filter(user=user).select_related("plan")
        ],
        "saved_searches": list(
            SavedSearch.objects.filter(user=user)
            .order_by("created_at")
            .values("id", "created_at", "source", "mode", "label", "spec", "options")
        ),
        "shape_alerts": list(
            Alert.objects.filter(user=user)
            .order_by("created_at")
            .values(
                "name", "created_at", "source", "spec", "threshold", "segment", "sector", "status"
            )
        ),
        "line_link": LineLink.objects.filter(user=user).values("line_user_id", "linked_at").first(),
    }
