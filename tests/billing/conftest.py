from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import BillingCustomer, Plan, Subscription


@pytest.fixture
def free_plan(db) -> Plan:
    return Plan.objects.get(slug="free")


@pytest.fixture
def pro_plan(db) -> Plan:
    plan = Plan.objects.get(slug="pro")
    plan.stripe_price_monthly = "price_pro_monthly"
    plan.stripe_price_yearly = "price_pro_yearly"
    plan.save()
    return plan


@pytest.fixture
def make_subscription(pro_plan):
    def make(user, *, status="active", plan=None, past_due_since=None, **fields):
        customer, _ = BillingCustomer.objects.get_or_create(
            user=user, defaults={"stripe_customer_id": f"cus_test{user.pk}"}
        )
        return Subscription.objects.create(
            user=user,
            plan=plan or pro_plan,
            stripe_subscription_id=fields.pop("stripe_subscription_id", f"sub_test{user.pk}"),
            stripe_customer_id=customer.stripe_customer_id,
            status=status,
            current_period_end=timezone.now() + timedelta(days=30),
            past_due_since=past_due_since,
            **fields,
        )

    return make
