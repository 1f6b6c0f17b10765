"""Deleting accounts and forgetting webhook payloads (issue 11, finding 13)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from billing.models import BillingCustomer, StripeEvent, Subscription
from billing.subscriptions import stripe_events_purge
from billing.tasks import stripe_events_purge_task

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-Pass!"


@pytest.fixture
def paying_user(user, stripe_server, make_subscription):
    """`user` with a Pro subscription whose customer exists in the Stripe server."""
    subscription = make_subscription(user)
    stripe_server.customers[subscription.stripe_customer_id] = {
        "id": subscription.stripe_customer_id,
        "object": "customer",
    }
    return user


def test_a_paying_user_deletes_their_account_and_stripe_stops_charging(
    client, paying_user, stripe_server
):
    customer_id = BillingCustomer.objects.get(user=paying_user).stripe_customer_id
    client.force_login(paying_user)

    response = client.post("/account/delete/", {"password": PASSWORD})

    assert response.status_code == 302
    assert not User.objects.filter(pk=paying_user.pk).exists()
    assert not Subscription.objects.exists()
    assert stripe_server.calls("DELETE", f"/v1/customers/{customer_id}") == [{}]
    assert client.get("/account/").status_code == 302  # signed out


def test_deleting_an_account_asks_for_the_password(client, paying_user, stripe_server):
    client.force_login(paying_user)

    response = client.post("/account/delete/", {"password": "not-my-password"})

    assert response.status_code == 400
    assert User.objects.filter(pk=paying_user.pk).exists()
    assert stripe_server.calls("DELETE", r"/v1/customers/.*") == []


def test_staff_delete_a_paying_user_in_admin(client, staff_user, paying_user, stripe_server):
    client.force_login(staff_user)

    confirm = client.get(f"/admin/accounts/user/{paying_user.pk}/delete/")
    response = client.post(f"/admin/accounts/user/{paying_user.pk}/delete/", {"post": "yes"})

    assert confirm.status_code == 200
    assert response.status_code == 302
    assert not User.objects.filter(pk=paying_user.pk).exists()
    assert len(stripe_server.calls("DELETE", r"/v1/customers/.*")) == 1


def test_webhook_payloads_are_emptied_after_the_retention_period(settings):
    old = StripeEvent.objects.create(
        stripe_id="evt_old", type="invoice.paid", payload={"data": {"object": {"email": "a@b.c"}}}
    )
    recent = StripeEvent.objects.create(
        stripe_id="evt_new", type="invoice.paid", payload={"data": {"object": {"email": "a@b.c"}}}
    )
    StripeEvent.objects.filter(pk=old.pk).update(
        received_at=timezone.now() - timedelta(days=settings.STRIPE_EVENT_RETENTION_DAYS + 1)
    )

    assert stripe_events_purge_task.apply().get() == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.payload == {} and old.stripe_id == "evt_old"
    assert recent.payload["data"]["object"]["email"] == "a@b.c"
    assert stripe_events_purge() == 0


def test_the_purge_runs_daily_in_celery_beat():
    from django_celery_beat.models import PeriodicTask

    call_command("install_schedule", stdout=StringIO())

    assert PeriodicTask.objects.filter(task="billing.stripe_events_purge", enabled=True).exists()
