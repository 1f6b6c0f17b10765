import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import BillingCustomer, Plan, Subscription

WEBHOOK_SECRET = "whsec_test_stocksite"


def stripe_signature(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    """The Stripe-Signature header exactly as Stripe computes it: HMAC-SHA256 of "t.payload"."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def stripe_event(event_type: str, obj: dict, *, event_id: str | None = None) -> dict:
    """An event in the shape Stripe sends to webhook endpoints."""
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }


@pytest.fixture
def deliver(client):
    """POST an event to the webhook endpoint, signed like Stripe unless told otherwise."""

    def post(event: dict, **signature_options):
        payload = json.dumps(event, indent=2).encode()
        headers = {"HTTP_STRIPE_SIGNATURE": stripe_signature(payload, **signature_options)}
        return client.post("/billing/webhook/", payload, content_type="application/json", **headers)

    return post


@pytest.fixture
def postgres(transactional_db):
    """Concurrency tests need a real database server: SQLite's test database serialises writers."""
    from django.db import connection

    from tests.conftest import REQUIRE_SERVICES

    if connection.vendor != "postgresql":
        if REQUIRE_SERVICES:
            pytest.fail("PostgreSQL is required (REQUIRE_SERVICES=1)")
        pytest.skip("needs PostgreSQL: set DATABASE_URL (CI sets REQUIRE_SERVICES=1)")


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


@pytest.fixture
def stripe_server(settings):
    """The real stripe SDK pointed at a local Stripe-shaped server, with keys configured."""
    from tests.billing.stripe_server import StripeServer

    with StripeServer() as server:
        settings.STRIPE_SECRET_KEY = "sk_test_stocksite"
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_API_BASE = server.url
        yield server
