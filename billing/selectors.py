from django.db.models import Case, Value, When

from billing.models import LIVE_STATUSES, BillingCustomer, ComplimentaryGrant, Plan, Subscription


def plans_for_pricing() -> list[Plan]:
    return list(Plan.objects.filter(is_public=True).order_by("rank", "name"))


def subscription_latest(*, user) -> Subscription | None:
    """The subscription to show: a live one before any that ended, then the latest synced."""
    return (
        Subscription.objects.filter(user=user)
        .annotate(
            live=Case(
                When(status__in=LIVE_STATUSES, then=Value(1)),
                default=Value(0),
            )
        )
        .select_related("plan")
        .order_by("-live", "-synced_at")
        .first()
    )


def billing_customer_exists(*, user) -> bool:
    return BillingCustomer.objects.filter(user=user).exists()


def billing_data_export(*, user) -> dict:
    """What billing keeps about a user: their sections of the account page's download."""
    customer = BillingCustomer.objects.filter(user=user).first()
    return {
        "stripe_customer": (
            {"id": customer.stripe_customer_id, "created": customer.created_at}
            if customer
            else None
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
    }
