"""The only module that talks to Stripe.

Every call builds a client from settings (STRIPE_SECRET_KEY, and STRIPE_API_BASE to point the SDK
at a local Stripe-compatible server), so tests and `override_settings` need no global state.
Functions return plain dicts in Stripe's shapes; callers never see SDK objects.

Every call is bounded: a connect and read timeout of STRIPE_TIMEOUT_SECONDS and at most
STRIPE_MAX_NETWORK_RETRIES retries (the SDK's defaults, 80 s and 2 retries, outlast gunicorn's
30 s worker timeout). POSTs carry an idempotency key, so a retried create cannot create twice.
Callers never hold a database row lock across a call.
"""

import json
from dataclasses import dataclass

import stripe
from django.conf import settings

StripeError = stripe.StripeError
SignatureVerificationError = stripe.SignatureVerificationError

# Stripe rejects webhook timestamps older than this many seconds (Stripe's own default).
WEBHOOK_TOLERANCE_SECONDS = 300


class PaymentsNotConfigured(Exception):
    """No STRIPE_SECRET_KEY: the site runs without payments."""


def payments_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _client() -> stripe.StripeClient:
    if not payments_configured():
        raise PaymentsNotConfigured
    base_addresses = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses=base_addresses,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )


def _plain(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def webhook_event_construct(*, payload: bytes, signature: str | None) -> dict:
    """Verify Stripe's signature on the raw body and return the event exactly as sent.

    Raises SignatureVerificationError (bad, missing or stale signature, or no secret configured)
    or ValueError (a body that is not a JSON event).
    """
    # What Webhook.construct_event verifies, without building SDK objects from a body that may
    # not be an event at all: we keep the payload exactly as Stripe sent it.
    stripe.WebhookSignature.verify_header(
        payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=WEBHOOK_TOLERANCE_SECONDS
    )
    event = json.loads(payload)
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and isinstance(event.get("type"), str)
        and isinstance((event.get("data") or {}).get("object"), dict)
    ):
        raise ValueError("The body is not a Stripe event.")
    return event


def customer_create(*, email: str, user_id: int, locale: str) -> dict:
    """The customer; `locale` is the language of Stripe's receipts and invoice emails to them."""
    return _plain(
        _client().v1.customers.create(
            params={
                "email": email,
                "metadata": {"user_id": str(user_id)},
                "preferred_locales": [locale],
            },
            options={"idempotency_key": f"stocksite-customer-user-{user_id}"},
        )
    )


def customer_delete(*, customer_id: str) -> None:
    """Delete a customer in Stripe, which cancels its subscriptions at once; invoices stay."""
    try:
        _client().v1.customers.delete(customer_id)
    except stripe.InvalidRequestError as exc:
        if exc.http_status != 404:  # already deleted: nothing left to do
            raise


def checkout_session_create(
    *,
    customer_id: str,
    price_id: str,
    user_id: int,
    success_url: str,
    cancel_url: str,
    locale: str,
) -> dict:
    return _plain(
        _client().v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": customer_id,
                "line_items": [{"price": price_id, "quantity": 1}],
                "client_reference_id": str(user_id),
                "metadata": {"user_id": str(user_id)},
                "subscription_data": {"metadata": {"user_id": str(user_id)}},
                "success_url": success_url,
                "cancel_url": cancel_url,
                "locale": locale,
            }
        )
    )


def checkout_sessions_open(*, customer_id: str) -> list[dict]:
    listed = _client().v1.checkout.sessions.list(
        params={"customer": customer_id, "status": "open", "limit": 100}
    )
    return [_plain(session) for session in listed.data]


def checkout_session_expire(*, session_id: str) -> dict:
    return _plain(_client().v1.checkout.sessions.expire(session_id))


# Statuses in which Stripe may still charge the customer: a second subscription must not start.
LIVE_SUBSCRIPTION_STATUSES = frozenset({"trialing", "active", "past_due", "unpaid", "paused"})


def subscriptions_live(*, customer_id: str) -> list[dict]:
    """The customer's subscriptions that Stripe still holds as running, read from Stripe now."""
    listed = _client().v1.subscriptions.list(
        params={"customer": customer_id, "status": "all", "limit": 100}
    )
    return [
        _plain(subscription)
        for subscription in listed.data
        if subscription["status"] in LIVE_SUBSCRIPTION_STATUSES
    ]


def portal_session_create(*, customer_id: str, return_url: str, locale: str) -> dict:
    return _plain(
        _client().v1.billing_portal.sessions.create(
            params={"customer": customer_id, "return_url": return_url, "locale": locale}
        )
    )


def subscription_retrieve(*, subscription_id: str) -> dict:
    return _plain(_client().v1.subscriptions.retrieve(subscription_id))


# --- Catalogue, for manage.py stripe_setup ------------------------------------------------------


@dataclass(frozen=True)
class CatalogueResult:
    product_id: str
    price_ids: dict[str, str]  # interval ("month" / "year") -> price or plan id
    created: list[str]
    legacy_plans: bool


def _product_find_or_create(client, *, slug: str, name: str, created: list[str]) -> str:
    for found in client.v1.products.list(params={"limit": 100}).auto_paging_iter():
        product = _plain(found)
        if (product.get("metadata") or {}).get("stocksite_plan") == slug:
            return product["id"]
    product = client.v1.products.create(
        params={"name": f"stocksite {name}", "metadata": {"stocksite_plan": slug}}
    )
    created.append(product["id"])
    return product["id"]


def prices_supported() -> bool:
    """Whether the Stripe server has the Prices API (real Stripe does; localstripe does not)."""
    try:
        _client().v1.prices.list(params={"limit": 1})
    except stripe.StripeError as exc:
        # localstripe answers an unknown route with a bare 404, not a Stripe error body.
        if exc.http_status == 404:
            return False
        raise
    return True


def catalogue_ensure(*, slug: str, name: str, amounts: dict[str, int]) -> CatalogueResult:
    """Find or create the product and one recurring yen price per interval, idempotently.

    Prices are found by lookup key `stocksite-<slug>-<interval>ly`; an amount that changed gets
    a new price that takes the lookup key over (Stripe prices are immutable). A server without
    the Prices API (localstripe) gets legacy Plans with those ids instead, which Stripe accepts
    wherever a price id is expected. Old prices and plans are never deleted or archived: the
    subscribers who pay them keep paying them.
    """
    client = _client()
    created: list[str] = []
    product_id = _product_find_or_create(client, slug=slug, name=name, created=created)
    legacy = not prices_supported()
    price_ids = {}
    for interval, amount in amounts.items():
        key = f"stocksite-{slug}-{interval}ly"
        if legacy:
            price_ids[interval] = _legacy_plan_ensure(
                client,
                key=key,
                product_id=product_id,
                interval=interval,
                amount=amount,
                created=created,
            )
            continue
        listed = client.v1.prices.list(params={"lookup_keys": [key], "active": True})
        found = [_plain(price) for price in listed.data]
        if found and found[0]["unit_amount"] == amount and found[0]["currency"] == "jpy":
            price_ids[interval] = found[0]["id"]
            continue
        price = client.v1.prices.create(
            params={
                "product": product_id,
                "currency": "jpy",
                "unit_amount": amount,
                "recurring": {"interval": interval},
                "lookup_key": key,
                "transfer_lookup_key": True,
                "metadata": {"stocksite_plan": slug},
            }
        )
        created.append(price["id"])
        price_ids[interval] = price["id"]
    return CatalogueResult(
        product_id=product_id, price_ids=price_ids, created=created, legacy_plans=legacy
    )


def _legacy_plan_ensure(client, *, key, product_id, interval, amount, created) -> str:
    # A plan's amount cannot change, and deleting it would leave its subscribers on a plan that
    # no longer exists: a new amount gets a plan of its own, under an id that names the amount.
    for plan_id in (key, f"{key}-{amount}"):
        try:
            plan = client.v1.plans.retrieve(plan_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status != 404:
                raise
            break
        if plan["amount"] == amount:
            return plan["id"]
    client.v1.plans.create(
        params={
            "id": plan_id,
            "product": product_id,
            "currency": "jpy",
            "amount": amount,
            "interval": interval,
        }
    )
    created.append(plan_id)
    return plan_id
