"""End to end against localstripe: it delivers signed webhooks to the live test server, which
re-reads the subscription from localstripe. Nothing is mocked; the test only waits for delivery.

localstripe has Plans but no Prices, Checkout or portal: `stripe_setup` falls back to legacy
Plans here, and the test plays the part of Checkout by creating the subscription itself.
"""

import socket
import subprocess
import sys
import time

import httpx
import pytest
import stripe
from django.core.management import call_command

from billing.entitlements import entitlements_for
from billing.models import Plan, StripeEvent, Subscription
from billing.services import billing_customer_get_or_create
from billing.subscriptions import subscription_sync
from tests.billing.conftest import WEBHOOK_SECRET

API_KEY = "sk_test_localstripe"
DELIVERY_WAIT_SECONDS = 20

pytestmark = pytest.mark.django_db(transaction=True)

# localstripe's own `start()` listens on every interface and pickles its store to /tmp: run its
# app on loopback only, in memory.
LAUNCH = (
    "import sys; from aiohttp import web; from localstripe.resources import Store; "
    "from localstripe.server import app; Store.dump_to_disk = lambda self: None; "
    "web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None, access_log=None)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, str(port)], stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"{url}/v1/plans", auth=(API_KEY, ""), timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"localstripe did not start: {log.read_text()}")
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def localstripe(localstripe_url, live_server, settings, seeded_plans):
    """A clean localstripe whose webhooks go, signed, to the live test server."""
    httpx.delete(f"{localstripe_url}/_config/data").raise_for_status()
    httpx.post(
        f"{localstripe_url}/_config/webhooks/stocksite",
        data={"url": f"{live_server.url}/billing/webhook/", "secret": WEBHOOK_SECRET},
    ).raise_for_status()
    settings.STRIPE_SECRET_KEY = API_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = localstripe_url
    call_command("stripe_setup")
    return stripe.StripeClient(API_KEY, base_addresses={"api": localstripe_url})


def _customer_with_card(client, user, card_number: str) -> str:
    customer_id = billing_customer_get_or_create(user=user).stripe_customer_id
    payment_method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": card_number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    client.v1.payment_methods.attach(payment_method.id, params={"customer": customer_id})
    client.v1.customers.update(
        customer_id, params={"invoice_settings": {"default_payment_method": payment_method.id}}
    )
    return customer_id


def _subscribe(client, customer_id: str) -> str:
    plan_id = Plan.objects.get(slug="pro").stripe_price_monthly
    return client.v1.subscriptions.create(
        params={"customer": customer_id, "items": [{"plan": plan_id}]}
    ).id


def _wait_for(condition, what: str):
    deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            events = list(StripeEvent.objects.values_list("type", "state", "error"))
            pytest.fail(f"localstripe never delivered {what}; events received: {events}")
        time.sleep(0.2)


def _processed(event_type: str, subscription_id: str) -> bool:
    return any(
        event.payload["data"]["object"].get("id") == subscription_id
        or event.payload["data"]["object"].get("subscription") == subscription_id
        for event in StripeEvent.objects.filter(type=event_type, state="processed")
    )


def test_stripe_setup_falls_back_to_legacy_plans_on_localstripe(localstripe):
    pro = Plan.objects.get(slug="pro")

    plan = localstripe.v1.plans.retrieve(pro.stripe_price_monthly)

    assert (pro.stripe_price_monthly, pro.stripe_price_yearly) == (
        "stocksite-pro-monthly",
        "stocksite-pro-yearly",
    )
    assert (plan.amount, plan.currency, plan.interval) == (2980, "jpy", "month")


def test_subscription_makes_the_user_pro_and_cancelling_makes_them_free(localstripe, user):
    customer_id = _customer_with_card(localstripe, user, "4242424242424242")

    subscription_id = _subscribe(localstripe, customer_id)
    _wait_for(lambda: entitlements_for(user=user).is_paid, "the subscription")

    subscription = Subscription.objects.get(stripe_subscription_id=subscription_id)
    assert (subscription.status, subscription.plan.slug) == ("active", "pro")
    assert subscription.current_period_end is not None

    localstripe.v1.subscriptions.cancel(subscription_id)
    _wait_for(
        lambda: _processed("customer.subscription.deleted", subscription_id), "the cancellation"
    )

    assert Subscription.objects.get(stripe_subscription_id=subscription_id).status == "canceled"
    assert entitlements_for(user=user).plan_slug == "free"


def test_declining_card_gives_no_access(localstripe, user):
    customer_id = _customer_with_card(localstripe, user, "4000000000000341")

    subscription_id = _subscribe(localstripe, customer_id)
    _wait_for(
        lambda: _processed("customer.subscription.created", subscription_id), "the subscription"
    )

    assert Subscription.objects.get(stripe_subscription_id=subscription_id).status == "incomplete"
    assert not entitlements_for(user=user).is_paid


def test_amount_change_leaves_the_plan_subscribers_pay_in_place(localstripe, user):
    customer_id = _customer_with_card(localstripe, user, "4242424242424242")
    old_plan_id = Plan.objects.get(slug="pro").stripe_price_monthly
    subscription_id = _subscribe(localstripe, customer_id)
    _wait_for(lambda: entitlements_for(user=user).is_paid, "the subscription")
    Plan.objects.filter(slug="pro").update(price_monthly=3480)

    call_command("stripe_setup")
    subscription_sync(stripe_subscription_id=subscription_id, stripe_customer_id=customer_id)

    new_plan_id = Plan.objects.get(slug="pro").stripe_price_monthly
    assert new_plan_id != old_plan_id
    assert localstripe.v1.plans.retrieve(old_plan_id).amount == 2980
    assert localstripe.v1.plans.retrieve(new_plan_id).amount == 3480
    assert entitlements_for(user=user).plan_slug == "pro"
