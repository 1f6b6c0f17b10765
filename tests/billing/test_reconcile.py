"""The hourly reconcile: subscriptions are re-read from Stripe whatever webhooks were lost."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from billing.entitlements import entitlements_for
from billing.models import BillingCustomer, Subscription
from billing.tasks import subscriptions_reconcile_task
from stocksite.celery import app
from tests.billing.stripe_server import subscription_shape


@pytest.fixture
def lost_cancellation(user, stripe_server, make_subscription):
    """Stripe cancelled the subscription; the customer.subscription.deleted event never came."""
    local = make_subscription(user, status="active")
    stripe_server.subscriptions[local.stripe_subscription_id] = subscription_shape(
        subscription_id=local.stripe_subscription_id,
        customer_id=local.stripe_customer_id,
        price_id="price_pro_monthly",
        status="canceled",
        ended_at=1_700_000_000,
    )
    return local


def test_reconcile_takes_away_a_plan_whose_cancellation_was_lost(user, lost_cancellation):
    assert entitlements_for(user=user).is_paid

    result = subscriptions_reconcile_task.delay().get()

    assert result == {"synced": 1, "discovered": 0, "failed": 0}
    assert Subscription.objects.get().status == "canceled"
    assert not entitlements_for(user=user).is_paid


def test_reconcile_skips_final_subscriptions_and_goes_on_after_a_failure(
    user, django_user_model, stripe_server, lost_cancellation, make_subscription
):
    other = django_user_model.objects.create_user(email="gone@example.com", password="x")
    make_subscription(other, status="active", stripe_subscription_id="sub_unknown_to_stripe")
    finished = django_user_model.objects.create_user(email="old@example.com", password="x")
    make_subscription(finished, status="canceled", stripe_subscription_id="sub_long_over")

    result = subscriptions_reconcile_task.delay().get()

    assert result == {"synced": 1, "discovered": 0, "failed": 1}
    assert [path for _, path, _ in stripe_server.requests if "sub_long_over" in path] == []
    assert Subscription.objects.get(user=user).status == "canceled"


def test_reconcile_runs_every_hour_in_celery_beat(db):
    call_command("install_schedule", stdout=StringIO())

    task = PeriodicTask.objects.get(task="billing.subscriptions_reconcile")

    assert task.enabled
    assert (task.crontab.minute, task.crontab.hour) == ("17", "*")
    assert "billing.subscriptions_reconcile" in app.tasks


def test_reconcile_without_subscriptions_calls_nothing(db, stripe_server):
    assert BillingCustomer.objects.count() == 0

    assert subscriptions_reconcile_task.delay().get() == {
        "synced": 0,
        "discovered": 0,
        "failed": 0,
    }
    assert stripe_server.requests == []


@pytest.fixture
def lost_subscription(user, stripe_server, pro_plan):
    """The user paid at Checkout an hour ago; every webhook about it was lost."""
    customer = BillingCustomer.objects.create(
        user=user,
        stripe_customer_id="cus_lost",
        checkout_opened_at=timezone.now() - timedelta(hours=1),
    )
    stripe_server.subscriptions["sub_lost"] = subscription_shape(
        subscription_id="sub_lost",
        customer_id=customer.stripe_customer_id,
        price_id="price_pro_monthly",
        status="active",
    )
    return customer


def test_reconcile_finds_a_subscription_whose_every_event_was_lost(user, lost_subscription):
    assert not entitlements_for(user=user).is_paid

    result = subscriptions_reconcile_task.delay().get()

    assert result == {"synced": 0, "discovered": 1, "failed": 0}
    assert Subscription.objects.get(user=user).stripe_subscription_id == "sub_lost"
    assert entitlements_for(user=user).is_paid
    # Once stored, it is re-read like any other, not looked for again.
    assert subscriptions_reconcile_task.delay().get() == {
        "synced": 1,
        "discovered": 0,
        "failed": 0,
    }


def test_reconcile_asks_only_about_customers_who_opened_a_checkout_lately(
    user, stripe_server, lost_subscription
):
    BillingCustomer.objects.filter(pk=lost_subscription.pk).update(
        checkout_opened_at=timezone.now() - timedelta(days=3)
    )

    result = subscriptions_reconcile_task.delay().get()

    assert result == {"synced": 0, "discovered": 0, "failed": 0}
    assert stripe_server.requests == []
    assert not Subscription.objects.exists()
