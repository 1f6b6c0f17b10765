"""Stripe calls are bounded in time and never made while our database holds a transaction."""

import json
import socket
import threading

import psycopg
import pytest
import stripe
from django.db import connection
from django.test import Client

from billing import gateway
from billing.models import BillingCustomer, Plan, Subscription
from billing.subscriptions import subscription_sync
from tests.billing.conftest import stripe_event, stripe_signature
from tests.billing.stripe_server import subscription_shape


@pytest.fixture
def silent_stripe(settings):
    """A server that accepts connections and never answers: Stripe on a very bad day."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []

    def accept():
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    settings.STRIPE_SECRET_KEY = "sk_test_stocksite"
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{listener.getsockname()[1]}"
    yield accepted
    listener.close()
    for sock in accepted:
        sock.close()


def test_a_stripe_that_never_answers_fails_the_call_after_the_timeout_and_one_retry(
    silent_stripe, settings
):
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    outcome = []

    def call():
        try:
            gateway.subscription_retrieve(subscription_id="sub_slow")
        except Exception as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    # The SDK's defaults (80 s, 2 retries) would still be waiting here.
    caller.join(timeout=20)

    assert not caller.is_alive()
    assert isinstance(outcome[0], stripe.APIConnectionError)
    assert len(silent_stripe) == 2  # the first try and one retry


def _open_transactions_elsewhere() -> int:
    """Sessions on the test database, other than the asker's, inside an open transaction."""
    params = connection.get_connection_params()
    with psycopg.connect(
        **{key: params[key] for key in ("dbname", "user", "host", "port") if key in params},
        password=params.get("password"),
        autocommit=True,
    ) as watcher:
        return watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
        ).fetchone()[0]


@pytest.fixture
def transactions_during_stripe_calls(postgres, stripe_server):
    seen = []
    stripe_server.on_request = lambda method, path: seen.append(
        (method, path, _open_transactions_elsewhere())
    )
    return seen


def test_webhook_processing_holds_no_transaction_while_stripe_is_read(
    transactions_during_stripe_calls, seeded_plans, django_user_model, stripe_server
):
    user = django_user_model.objects.create_user(email="lock@example.com", password="x")
    BillingCustomer.objects.create(user=user, stripe_customer_id="cus_lock")
    Plan.objects.filter(slug="pro").update(stripe_price_monthly="price_pro_monthly")
    data = subscription_shape(
        subscription_id="sub_lock", customer_id="cus_lock", price_id="price_pro_monthly"
    )
    stripe_server.subscriptions[data["id"]] = data
    payload = json.dumps(stripe_event("customer.subscription.updated", data)).encode()

    response = Client().post(
        "/billing/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(payload),
    )

    assert response.json()["state"] == "processed"
    assert transactions_during_stripe_calls == [("GET", "/v1/subscriptions/sub_lock", 0)]


def test_checkout_holds_no_transaction_while_stripe_is_called(
    transactions_during_stripe_calls, seeded_plans, django_user_model
):
    user = django_user_model.objects.create_user(email="buyer@example.com", password="x")
    Plan.objects.filter(slug="pro").update(stripe_price_monthly="price_pro_monthly")
    client = Client()
    client.force_login(user)

    response = client.post("/billing/checkout/", {"plan": "pro", "interval": "monthly"})

    assert response.status_code == 302
    assert [path for _, path, _ in transactions_during_stripe_calls] == [
        "/v1/customers",
        "/v1/subscriptions",
        "/v1/checkout/sessions",
        "/v1/checkout/sessions",
    ]
    assert {open_count for *_, open_count in transactions_during_stripe_calls} == {0}


def test_an_older_read_of_stripe_that_lands_last_does_not_overwrite_a_newer_one(
    postgres, seeded_plans, stripe_server, django_user_model
):
    # Without a lock held across the Stripe call, two syncs of one subscription overlap: the
    # first read (active) comes back only after a second sync has read and stored `canceled`.
    user = django_user_model.objects.create_user(email="order@example.com", password="x")
    BillingCustomer.objects.create(user=user, stripe_customer_id="cus_order")
    Plan.objects.filter(slug="pro").update(stripe_price_monthly="price_pro_monthly")
    stripe_server.subscriptions["sub_order"] = subscription_shape(
        subscription_id="sub_order", customer_id="cus_order", price_id="price_pro_monthly"
    )
    answered = []

    def later_sync():
        try:
            subscription_sync(stripe_subscription_id="sub_order", stripe_customer_id="cus_order")
        finally:
            connection.close()

    def on_response(method, path):
        answered.append(path)
        if len(answered) == 1:  # the first read, of an active subscription, is on its way
            stripe_server.subscriptions["sub_order"]["status"] = "canceled"
            second = threading.Thread(target=later_sync)
            second.start()
            second.join(timeout=20)

    stripe_server.on_response = on_response

    subscription_sync(stripe_subscription_id="sub_order", stripe_customer_id="cus_order")

    assert len(answered) == 2
    assert Subscription.objects.get().status == "canceled"
