from django.db.models import Case, Value, When

from billing.models import LIVE_STATUSES, BillingCustomer, Plan, Subscription


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
