"""Checkout Sessions, the customer portal and prices through the real stripe SDK, against a local
Stripe-shaped server (localstripe has none of them)."""

import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from billing.entitlements import entitlements_for
from billing.models import BillingCustomer, Plan, PlanPrice, Subscription
from billing.services import billing_customer_get_or_create
from billing.subscriptions import subscription_sync
from tests.billing.stripe_server import subscription_shape


@pytest.mark.parametrize(
    ("interval", "price_id"), [("monthly", "price_pro_monthly"), ("yearly", "price_pro_yearly")]
)
def test_upgrade_creates_a_subscription_checkout_session_and_redirects_to_it(
    client, user, pro_plan, stripe_server, interval, price_id
):
    client.force_login(user)

    response = client.post("/billing/checkout/", {"plan": "pro", "interval": interval})

    [session] = stripe_server.calls("POST", "/v1/checkout/sessions")
    customer = BillingCustomer.objects.get(user=user)
    assert response.status_code == 302
    assert response["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test")
    assert session["mode"] == "subscription"
    assert session["customer"] == customer.stripe_customer_id
    assert session["line_items[0][price]"] == price_id
    assert session["client_reference_id"] == str(user.pk)
    assert session["success_url"].endswith("/billing/success/?session_id={CHECKOUT_SESSION_ID}")
    # The reconcile looks for what this checkout creates, in case its webhooks are lost.
    assert customer.checkout_opened_at is not None


def test_stripe_customer_is_created_once_and_linked_to_the_user(
    client, user, pro_plan, stripe_server
):
    client.force_login(user)

    client.post("/billing/checkout/", {"plan": "pro", "interval": "monthly"})
    client.post("/billing/checkout/", {"plan": "pro", "interval": "yearly"})

    [created] = stripe_server.calls("POST", "/v1/customers")
    assert created["email"] == user.email
    assert created["metadata[user_id]"] == str(user.pk)
    assert len(stripe_server.calls("POST", "/v1/checkout/sessions")) == 2
    assert BillingCustomer.objects.get(user=user).stripe_customer_id in stripe_server.customers


def test_subscriber_is_not_sent_to_a_second_checkout(
    client, user, pro_plan, stripe_server, make_subscription
):
    make_subscription(user, status="active")
    client.force_login(user)

    response = client.post(
        "/billing/checkout/",
        {"plan": "pro", "interval": "monthly"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert stripe_server.calls("POST", "/v1/checkout/sessions") == []
    assert "already have a subscription" in response.content.decode()


def test_plan_without_a_stripe_price_cannot_be_bought(client, user, pro_plan, stripe_server):
    Plan.objects.filter(pk=pro_plan.pk).update(stripe_price_yearly="")
    client.force_login(user)

    response = client.post(
        "/billing/checkout/",
        {"plan": "pro", "interval": "yearly"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert stripe_server.calls("POST", "/v1/checkout/sessions") == []
    assert "cannot be bought yet" in response.content.decode()


def test_portal_link_opens_a_portal_session_for_the_users_customer(
    client, user, pro_plan, stripe_server
):
    customer = billing_customer_get_or_create(user=user)
    client.force_login(user)

    response = client.post("/billing/portal/")

    [session] = stripe_server.calls("POST", "/v1/billing_portal/sessions")
    assert response.status_code == 302
    assert response["Location"].startswith("https://billing.stripe.com/p/session/")
    assert session["customer"] == customer.stripe_customer_id
    assert session["return_url"].endswith("/account/")


def test_portal_without_billing_history_explains_it(client, user, stripe_server):
    client.force_login(user)

    response = client.post("/billing/portal/", follow=True, HTTP_ACCEPT_LANGUAGE="en")

    assert stripe_server.calls("POST", "/v1/billing_portal/sessions") == []
    assert "no billing history" in response.content.decode()


def test_stripe_setup_creates_product_and_prices_and_records_them(db, stripe_server, capsys):
    call_command("stripe_setup")

    pro = Plan.objects.get(slug="pro")
    prices = {price["id"]: price for price in stripe_server.prices.values()}
    assert prices[pro.stripe_price_monthly]["unit_amount"] == 2980
    assert prices[pro.stripe_price_monthly]["lookup_key"] == "stocksite-pro-monthly"
    assert prices[pro.stripe_price_yearly]["recurring"]["interval"] == "year"
    assert stripe_server.products[pro.stripe_product_id]["metadata"] == {"stocksite_plan": "pro"}
    assert Plan.objects.get(slug="free").stripe_product_id == ""


def test_stripe_setup_is_idempotent(db, stripe_server):
    call_command("stripe_setup")
    first = Plan.objects.get(slug="pro")

    call_command("stripe_setup")

    again = Plan.objects.get(slug="pro")
    assert (len(stripe_server.products), len(stripe_server.prices)) == (1, 2)
    assert (again.stripe_price_monthly, again.stripe_price_yearly) == (
        first.stripe_price_monthly,
        first.stripe_price_yearly,
    )


def test_stripe_setup_makes_a_new_price_when_staff_change_the_amount(db, stripe_server):
    call_command("stripe_setup")
    old = Plan.objects.get(slug="pro").stripe_price_monthly
    Plan.objects.filter(slug="pro").update(price_monthly=3480)

    call_command("stripe_setup")

    new = Plan.objects.get(slug="pro").stripe_price_monthly
    assert new != old
    assert stripe_server.prices[new]["lookup_key"] == "stocksite-pro-monthly"
    assert stripe_server.prices[old]["lookup_key"] is None


def test_stripe_setup_without_keys_says_so(db, settings):
    from django.core.management.base import CommandError

    settings.STRIPE_SECRET_KEY = ""

    with pytest.raises(CommandError, match="STRIPE_SECRET_KEY"):
        call_command("stripe_setup")


def test_subscription_stripe_holds_but_our_rows_do_not_yet_blocks_a_second_checkout(
    client, user, pro_plan, stripe_server
):
    # The first checkout was paid a moment ago; its webhook has not arrived yet.
    customer = billing_customer_get_or_create(user=user)
    stripe_server.subscriptions["sub_paid_just_now"] = subscription_shape(
        subscription_id="sub_paid_just_now",
        customer_id=customer.stripe_customer_id,
        price_id="price_pro_monthly",
    )
    client.force_login(user)

    response = client.post(
        "/billing/checkout/",
        {"plan": "pro", "interval": "monthly"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert stripe_server.calls("POST", "/v1/checkout/sessions") == []
    assert "already have a subscription" in response.content.decode()
    assert Subscription.objects.get(user=user).status == "active"


def test_a_new_checkout_expires_the_session_left_open_before(client, user, pro_plan, stripe_server):
    client.force_login(user)
    client.post("/billing/checkout/", {"plan": "pro", "interval": "monthly"})
    [first] = stripe_server.checkout_sessions

    client.post("/billing/checkout/", {"plan": "pro", "interval": "yearly"})

    statuses = [session["status"] for session in stripe_server.checkout_sessions.values()]
    assert stripe_server.checkout_sessions[first]["status"] == "expired"
    assert statuses.count("open") == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_checkouts_of_one_user_open_one_session(
    postgres, seeded_plans, stripe_server, django_user_model
):
    Plan.objects.filter(slug="pro").update(
        stripe_price_monthly="price_pro_monthly", stripe_price_yearly="price_pro_yearly"
    )
    user = django_user_model.objects.create_user(email="double@example.com", password="x")
    attempts = 4
    barrier = threading.Barrier(attempts)
    # Stripe takes a moment to answer, as it does: the attempts overlap.
    stripe_server.on_request = lambda method, path: time.sleep(0.2)
    locations = []

    def attempt(interval):
        try:
            client = Client()
            client.force_login(user)
            barrier.wait()
            response = client.post("/billing/checkout/", {"plan": "pro", "interval": interval})
            locations.append(response["Location"])
        finally:
            connection.close()

    threads = [
        threading.Thread(target=attempt, args=(("monthly", "yearly")[i % 2],))
        for i in range(attempts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(stripe_server.calls("POST", "/v1/checkout/sessions")) == 1
    assert len(stripe_server.customers) == 1
    assert sum(location.startswith("https://checkout.stripe.com/") for location in locations) == 1
    assert BillingCustomer.objects.get(user=user).checkout_started_at is None


def test_stripe_setup_keeps_subscribers_of_an_old_price_on_their_plan(
    db, user, stripe_server, deliver, settings
):
    from tests.billing.conftest import WEBHOOK_SECRET, stripe_event

    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    call_command("stripe_setup")
    old_price = Plan.objects.get(slug="pro").stripe_price_monthly
    customer = billing_customer_get_or_create(user=user)
    subscription = subscription_shape(
        subscription_id="sub_old_price",
        customer_id=customer.stripe_customer_id,
        price_id=old_price,
    )
    stripe_server.subscriptions["sub_old_price"] = subscription
    Plan.objects.filter(slug="pro").update(price_monthly=3480)
    call_command("stripe_setup")

    deliver(stripe_event("customer.subscription.updated", subscription))

    assert Plan.objects.get(slug="pro").stripe_price_monthly != old_price
    assert Subscription.objects.get().plan.slug == "pro"
    assert entitlements_for(user=user).plan_slug == "pro"


def test_a_price_made_outside_stripe_setup_maps_to_its_plan_by_product(
    user, pro_plan, stripe_server, make_subscription
):
    pro_plan.stripe_product_id = "prod_pro"
    pro_plan.save()
    customer = billing_customer_get_or_create(user=user)
    subscription = subscription_shape(
        subscription_id="sub_dashboard_price",
        customer_id=customer.stripe_customer_id,
        price_id="price_made_in_the_dashboard",
    )
    subscription["items"]["data"][0]["price"]["product"] = "prod_pro"
    stripe_server.subscriptions["sub_dashboard_price"] = subscription

    subscription_sync(
        stripe_subscription_id="sub_dashboard_price",
        stripe_customer_id=customer.stripe_customer_id,
    )

    assert Subscription.objects.get().plan == pro_plan
    assert PlanPrice.objects.get(stripe_price_id="price_made_in_the_dashboard").plan == pro_plan
