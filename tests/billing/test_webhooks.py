import json
import time

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from billing.admin import StripeEventAdmin
from billing.entitlements import entitlements_for
from billing.models import BillingCustomer, Plan, StripeEvent, Subscription
from tests.billing.conftest import stripe_event, stripe_signature
from tests.billing.stripe_server import subscription_shape
from tests.factories import UserFactory, staff_sign_in

SUBSCRIPTION_PATH = r"/v1/subscriptions/.+"


@pytest.fixture
def customer(user):
    return BillingCustomer.objects.create(user=user, stripe_customer_id="cus_webhook1")


@pytest.fixture
def stripe_subscription(stripe_server, customer, pro_plan):
    """The subscription as Stripe's API holds it now."""
    data = subscription_shape(
        subscription_id="sub_webhook1",
        customer_id=customer.stripe_customer_id,
        price_id=pro_plan.stripe_price_monthly,
    )
    stripe_server.subscriptions[data["id"]] = data
    return data


def _checkout_session(subscription):
    return {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "paid",
        "customer": subscription["customer"],
        "subscription": subscription["id"],
        "client_reference_id": "1",
        "metadata": {},
    }


def _invoice(subscription, *, status):
    # API 2025-03-31 and later: the subscription is named under parent.subscription_details.
    return {
        "id": "in_test_1",
        "object": "invoice",
        "customer": subscription["customer"],
        "status": status,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription["id"], "metadata": {}},
        },
    }


def _legacy_invoice(subscription):
    # API versions before 2025-03-31 name the subscription on the invoice itself.
    return {
        "id": "in_test_2",
        "object": "invoice",
        "customer": subscription["customer"],
        "status": "paid",
        "subscription": subscription["id"],
    }


EVENT_OBJECTS = {
    "checkout.session.completed": _checkout_session,
    "customer.subscription.created": lambda subscription: subscription,
    "customer.subscription.updated": lambda subscription: subscription,
    "invoice.paid": lambda subscription: _invoice(subscription, status="paid"),
    "invoice.paid (legacy shape)": _legacy_invoice,
}


@pytest.mark.parametrize("case", sorted(EVENT_OBJECTS))
def test_handled_event_makes_the_user_pro_from_stripes_current_state(
    deliver, stripe_server, stripe_subscription, user, case
):
    event_type = case.split(" ")[0]
    response = deliver(stripe_event(event_type, EVENT_OBJECTS[case](stripe_subscription)))

    assert response.status_code == 200
    assert StripeEvent.objects.get().state == "processed"
    assert entitlements_for(user=user).plan_slug == "pro"
    assert len(stripe_server.calls("GET", SUBSCRIPTION_PATH)) == 1


def test_subscription_deleted_takes_pro_away(deliver, stripe_server, stripe_subscription, user):
    deliver(stripe_event("customer.subscription.created", stripe_subscription))
    stripe_subscription.update(status="canceled", ended_at=int(time.time()))

    response = deliver(stripe_event("customer.subscription.deleted", stripe_subscription))

    assert response.status_code == 200
    assert Subscription.objects.get().status == "canceled"
    assert entitlements_for(user=user).plan_slug == "free"


def test_invoice_payment_failed_marks_past_due_and_starts_the_grace_period(
    deliver, stripe_subscription, user
):
    deliver(stripe_event("customer.subscription.created", stripe_subscription))
    stripe_subscription["status"] = "past_due"

    deliver(stripe_event("invoice.payment_failed", _invoice(stripe_subscription, status="open")))

    limits = entitlements_for(user=user)
    assert Subscription.objects.get().past_due_since is not None
    assert (limits.status, limits.is_paid, limits.grace_until is not None) == (
        "past_due",
        True,
        True,
    )


def test_cancel_at_period_end_is_recorded(deliver, stripe_subscription, user):
    stripe_subscription["cancel_at_period_end"] = True

    deliver(stripe_event("customer.subscription.updated", stripe_subscription))

    assert Subscription.objects.get().cancel_at_period_end is True
    assert entitlements_for(user=user).is_paid


def test_events_out_of_order_end_in_stripes_current_state(deliver, stripe_subscription, user):
    stale_update = dict(stripe_subscription, status="active")
    stripe_subscription.update(status="canceled", ended_at=int(time.time()))

    deliver(stripe_event("customer.subscription.deleted", stripe_subscription))
    deliver(stripe_event("customer.subscription.updated", stale_update))

    assert Subscription.objects.get().status == "canceled"
    assert entitlements_for(user=user).plan_slug == "free"


def test_event_payload_is_not_trusted_over_stripes_api(deliver, stripe_subscription, user):
    forged = dict(stripe_subscription, status="active")
    stripe_subscription["status"] = "incomplete"

    deliver(stripe_event("customer.subscription.updated", forged))

    assert Subscription.objects.get().status == "incomplete"
    assert not entitlements_for(user=user).is_paid


def test_duplicate_delivery_is_answered_200_and_not_processed_again(
    deliver, stripe_server, stripe_subscription
):
    event = stripe_event("customer.subscription.created", stripe_subscription)

    first = deliver(event)
    second = deliver(event)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["duplicate"] is True
    assert StripeEvent.objects.get().attempts == 1
    assert len(stripe_server.calls("GET", SUBSCRIPTION_PATH)) == 1


def test_event_is_stored_with_its_payload(deliver, stripe_subscription):
    event = stripe_event("customer.subscription.created", stripe_subscription)

    deliver(event)

    stored = StripeEvent.objects.get()
    assert (stored.stripe_id, stored.type, stored.payload) == (event["id"], event["type"], event)
    assert stored.processed_at is not None


def test_unknown_type_is_stored_and_answered_200_without_calling_stripe(
    deliver, stripe_server, stripe_subscription
):
    response = deliver(stripe_event("customer.tax_id.created", {"id": "txi_1"}))

    assert response.status_code == 200
    assert StripeEvent.objects.get().state == "ignored"
    assert stripe_server.requests == []


@pytest.mark.parametrize(
    "signature",
    [
        {"secret": "whsec_someone_else"},
        {"timestamp": int(time.time()) - 301},
    ],
    ids=["wrong-secret", "stale-timestamp"],
)
def test_bad_signature_is_refused_and_nothing_is_stored(
    deliver, stripe_subscription, user, signature
):
    response = deliver(
        stripe_event("customer.subscription.created", stripe_subscription), **signature
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    assert not StripeEvent.objects.exists()
    assert not Subscription.objects.exists()


def test_missing_signature_is_refused(client, stripe_subscription):
    payload = json.dumps(stripe_event("customer.subscription.created", stripe_subscription))

    response = client.post("/billing/webhook/", payload, content_type="application/json")

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_signature_over_another_body_is_refused(client, stripe_subscription):
    event = stripe_event("customer.subscription.created", stripe_subscription)
    signature = stripe_signature(json.dumps(event).encode())
    tampered = json.dumps(dict(event, type="invoice.paid"))

    response = client.post(
        "/billing/webhook/",
        tampered,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_webhook_is_refused_when_no_secret_is_configured(deliver, stripe_subscription, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""

    response = deliver(stripe_event("customer.subscription.created", stripe_subscription))

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_webhook_needs_no_csrf_token(stripe_subscription, user):
    from django.test import Client

    event = stripe_event("customer.subscription.created", stripe_subscription)
    payload = json.dumps(event).encode()

    response = Client(enforce_csrf_checks=True).post(
        "/billing/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(payload),
    )

    assert response.status_code == 200


def test_event_for_a_customer_we_do_not_know_is_ignored(deliver, stripe_server, pro_plan):
    data = subscription_shape(
        subscription_id="sub_other", customer_id="cus_other", price_id="price_pro_monthly"
    )
    stripe_server.subscriptions[data["id"]] = data

    response = deliver(stripe_event("customer.subscription.created", data))

    assert response.status_code == 200
    assert StripeEvent.objects.get().state == "ignored"
    assert not Subscription.objects.exists()


def test_invoice_without_subscription_is_ignored(deliver, stripe_server, customer):
    invoice = {"id": "in_one_off", "object": "invoice", "customer": "cus_webhook1", "parent": None}

    deliver(stripe_event("invoice.paid", invoice))

    assert StripeEvent.objects.get().state == "ignored"
    assert stripe_server.requests == []


def test_failed_processing_answers_500_and_a_redelivery_processes_it(
    deliver, stripe_server, stripe_subscription, user
):
    event = stripe_event("customer.subscription.created", stripe_subscription)
    missing = stripe_server.subscriptions.pop(stripe_subscription["id"])

    failed = deliver(event)
    stored = StripeEvent.objects.get()
    stripe_server.subscriptions[missing["id"]] = missing
    retried = deliver(event)

    assert failed.status_code == 500
    assert stored.state == "failed"
    assert "No such subscription" in stored.error
    assert retried.status_code == 200
    assert StripeEvent.objects.get().state == "processed"
    assert entitlements_for(user=user).is_paid


def test_staff_reprocess_a_failed_event_from_admin(
    deliver, stripe_server, stripe_subscription, staff_user, user
):
    missing = stripe_server.subscriptions.pop(stripe_subscription["id"])
    deliver(stripe_event("customer.subscription.created", stripe_subscription))
    stripe_server.subscriptions[missing["id"]] = missing
    request = RequestFactory().post("/admin/billing/stripeevent/")
    request.user = staff_user
    request._messages = _Messages()
    admin = StripeEventAdmin(StripeEvent, site)

    admin.reprocess(request, StripeEvent.objects.all())

    stored = StripeEvent.objects.get()
    assert (stored.state, stored.attempts, stored.error) == ("processed", 2, "")
    assert entitlements_for(user=user).is_paid


def test_admin_lists_events_with_their_state(client, staff_user, deliver, stripe_subscription):
    deliver(stripe_event("customer.subscription.created", stripe_subscription))
    staff_sign_in(client, staff_user)

    body = client.get("/admin/billing/stripeevent/").content.decode()

    assert "customer.subscription.created" in body
    assert "processed" in body
    assert "reprocess" in body


class _Messages(list):
    def add(self, level, message, extra_tags=""):
        self.append(message)


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_event_are_processed_once(
    postgres, stripe_server, seeded_plans
):
    import threading

    from django.db import connection
    from django.test import Client

    user = UserFactory(email="twice@example.com", password="x")
    BillingCustomer.objects.create(user=user, stripe_customer_id="cus_twice")
    data = subscription_shape(
        subscription_id="sub_twice", customer_id="cus_twice", price_id="price_pro_monthly"
    )
    Plan.objects.filter(slug="pro").update(stripe_price_monthly="price_pro_monthly")
    stripe_server.subscriptions[data["id"]] = data
    event = stripe_event("customer.subscription.created", data)
    payload = json.dumps(event).encode()
    deliveries = 6
    barrier = threading.Barrier(deliveries)
    statuses = []

    def deliver_once():
        try:
            barrier.wait()
            response = Client().post(
                "/billing/webhook/",
                payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=stripe_signature(payload),
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_once) for _ in range(deliveries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * deliveries
    # By its id: a webhook that localstripe delivers late from an earlier test may be stored too.
    assert StripeEvent.objects.get(stripe_id=event["id"]).attempts == 1
    assert len(stripe_server.calls("GET", SUBSCRIPTION_PATH)) == 1
    assert entitlements_for(user=user).is_paid


def test_redelivery_finishes_an_event_whose_processing_was_interrupted(
    deliver, stripe_subscription, user
):
    event = stripe_event("customer.subscription.created", stripe_subscription)
    StripeEvent.objects.create(stripe_id=event["id"], type=event["type"], payload=event)

    response = deliver(event)

    assert response.status_code == 200
    assert StripeEvent.objects.get().state == "processed"
    assert entitlements_for(user=user).is_paid


@pytest.mark.parametrize(
    "body",
    [b"[]", b"null", b"not json", b'{"id": "evt_1"}', b'{"id": "evt_1", "type": "invoice.paid"}'],
)
def test_signed_body_that_is_not_an_event_is_refused(db, client, stripe_server, body):
    response = client.post(
        "/billing/webhook/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(body),
    )

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_checkout_completed_links_a_customer_that_checkout_created(
    deliver, stripe_server, pro_plan, user
):
    data = subscription_shape(
        subscription_id="sub_new_customer",
        customer_id="cus_from_checkout",
        price_id=pro_plan.stripe_price_monthly,
    )
    stripe_server.subscriptions[data["id"]] = data
    session = dict(_checkout_session(data), client_reference_id=str(user.pk))

    deliver(stripe_event("checkout.session.completed", session))

    assert BillingCustomer.objects.get(user=user).stripe_customer_id == "cus_from_checkout"
    assert entitlements_for(user=user).is_paid


def test_a_downgrade_pauses_the_alerts_above_the_new_limit_newest_first(
    deliver, stripe_subscription, user
):
    from alerts.models import Alert
    from alerts.services import alert_create

    deliver(stripe_event("customer.subscription.created", stripe_subscription))
    alerts = [
        alert_create(user=user, spec={"source": "prices", "prices": [1, 3, 2, 5, 4 + i]})
        for i in range(3)
    ]
    stripe_subscription.update(status="canceled", ended_at=int(time.time()))

    deliver(stripe_event("customer.subscription.deleted", stripe_subscription))

    states = dict(Alert.objects.values_list("pk", "status"))
    assert states == {alerts[0].pk: "active", alerts[1].pk: "paused", alerts[2].pk: "paused"}
    assert set(Alert.objects.filter(status="paused").values_list("paused_by", flat=True)) == {
        "plan"
    }
