from billing.models import BillingCustomer, Plan, Subscription


def plans_for_pricing() -> list[Plan]:
    return list(Plan.objects.filter(is_public=True).order_by("rank", "name"))


def plan_paid_default() -> Plan | None:
    """The plan the upgrade button buys: the highest-ranked public paid plan."""
    for plan in reversed(plans_for_pricing()):
        if not plan.is_free:
            return plan
    return None


def subscription_latest(*, user) -> Subscription | None:
    return Subscription.objects.filter(user=user).select_related("plan").first()


def billing_customer_exists(*, user) -> bool:
    return BillingCustomer.objects.filter(user=user).exists()
