"""Billing writes: Stripe customers, checkout and portal sessions, the webhook log, subscriptions.

Access never follows a redirect back from Stripe: only `subscription_sync`, fed by webhooks, writes
subscriptions, and it always writes what Stripe's API says now, not what an event carried.
"""

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from billing import gateway
from billing.models import (
    LIVE_STATUSES,
    BillingCustomer,
    Plan,
    StripeEvent,
    StripeEventState,
    Subscription,
    SubscriptionStatus,
)
from stocksite.errors import DomainError

logger = logging.getLogger(__name__)
User = get_user_model()

HANDLED_EVENT_TYPES = frozenset(
    {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.paid",
        "invoice.payment_failed",
    }
)
INTERVALS = {"monthly": "month", "yearly": "year"}


class BillingError(DomainError):
    code = "billing"
    default_message = _("Billing is not available right now.")


class PaymentsNotConfiguredError(BillingError):
    code = "payments_not_configured"
    status = 503
    default_message = _("Payments are not configured on this site.")


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def billing_customer_get_or_create(*, user: User) -> BillingCustomer:
    """The user's one Stripe customer; created on first use, under a lock on the user's row."""
    existing = BillingCustomer.objects.filter(user=user).first()
    if existing:
        return existing
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        existing = BillingCustomer.objects.filter(user=user).first()
        if existing:
            return existing
        customer = gateway.customer_create(email=user.email, user_id=user.pk, locale=_language())
        return BillingCustomer.objects.create(user=user, stripe_customer_id=customer["id"])


def _language() -> str:
    """The page's language, which Stripe's checkout, portal and receipts then speak."""
    return translation.get_language() or settings.LANGUAGE_CODE


def checkout_session_start(*, user: User, plan: Plan, interval: str) -> str:
    """Create a Checkout Session in subscription mode and return the address to send the user."""
    if not gateway.payments_configured():
        raise PaymentsNotConfiguredError()
    price_id = plan.stripe_price_yearly if interval == "yearly" else plan.stripe_price_monthly
    if interval not in INTERVALS or not price_id:
        raise BillingError(_("This plan cannot be bought yet."))
    if Subscription.objects.filter(user=user, status__in=LIVE_STATUSES).exists():
        raise BillingError(_("You already have a subscription: manage it in the billing portal."))
    customer = billing_customer_get_or_create(user=user)
    session = gateway.checkout_session_create(
        customer_id=customer.stripe_customer_id,
        price_id=price_id,
        user_id=user.pk,
        success_url=_absolute(reverse("billing:success")) + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=_absolute(reverse("pricing")),
        locale=_language(),
    )
    return session["url"]


def portal_session_start(*, user: User) -> str:
    if not gateway.payments_configured():
        raise PaymentsNotConfiguredError()
    customer = BillingCustomer.objects.filter(user=user).first()
    if customer is None:
        raise BillingError(_("You have no billing history yet."))
    session = gateway.portal_session_create(
        customer_id=customer.stripe_customer_id,
        return_url=_absolute(reverse("account")),
        locale=_language(),
    )
    return session["url"]


# --- Subscriptions ------------------------------------------------------------------------------


def _timestamp(value) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


def _object_id(value) -> str | None:
    return value.get("id") if isinstance(value, dict) else value


def _first_item(data: dict) -> dict:
    items = (data.get("items") or {}).get("data") or []
    return items[0] if items else {}


def _price_id(data: dict) -> str:
    item = _first_item(data)
    return _object_id(item.get("price")) or _object_id(item.get("plan")) or ""


def _period_end(data: dict) -> datetime | None:
    # Since API version 2025-03-31 the period lives on the items; older versions (and
    # localstripe) keep it on the subscription.
    return _timestamp(_first_item(data).get("current_period_end") or data.get("current_period_end"))


@transaction.atomic
def subscription_sync(*, stripe_subscription_id: str, stripe_customer_id: str) -> bool:
    """Re-read a subscription from Stripe and store it. False when the customer is not ours.

    The customer's row is locked before Stripe is read, so of two events for one customer the
    later writer has also read later: the stored state never goes back in time.
    """
    customer = (
        BillingCustomer.objects.select_for_update()
        .filter(stripe_customer_id=stripe_customer_id)
        .select_related("user")
        .first()
    )
    if customer is None:
        return False
    data = gateway.subscription_retrieve(subscription_id=stripe_subscription_id)
    if _object_id(data.get("customer")) != stripe_customer_id:
        raise ValueError(
            f"subscription {stripe_subscription_id} belongs to {data.get('customer')}, "
            f"not {stripe_customer_id}"
        )
    price_id = _price_id(data)
    plan = (
        Plan.objects.filter(Q(stripe_price_monthly=price_id) | Q(stripe_price_yearly=price_id))
        .order_by("-rank")
        .first()
        if price_id
        else None
    )
    status = data["status"]
    if status not in SubscriptionStatus.values:
        raise ValueError(f"unknown subscription status {status!r}")
    existing = Subscription.objects.filter(stripe_subscription_id=stripe_subscription_id).first()
    past_due_since = None
    if status == SubscriptionStatus.PAST_DUE:
        past_due_since = (existing and existing.past_due_since) or timezone.now()
    Subscription.objects.update_or_create(
        stripe_subscription_id=stripe_subscription_id,
        defaults={
            "user": customer.user,
            "plan": plan,
            "stripe_customer_id": stripe_customer_id,
            "stripe_price_id": price_id,
            "status": status,
            "current_period_end": _period_end(data),
            "cancel_at_period_end": bool(data.get("cancel_at_period_end")),
            "ended_at": _timestamp(data.get("ended_at")),
            "past_due_since": past_due_since,
        },
    )
    return True


# --- Webhook events -----------------------------------------------------------------------------


def stripe_event_record(*, event: dict) -> tuple[StripeEvent, bool]:
    """Store a verified event once under its Stripe id. Returns (row, created).

    The unique constraint decides, not a look-up first: of two concurrent deliveries of one
    event exactly one inserts.
    """
    handled = event["type"] in HANDLED_EVENT_TYPES
    try:
        with transaction.atomic():
            row = StripeEvent.objects.create(
                stripe_id=event["id"],
                type=event["type"],
                payload=event,
                state=StripeEventState.RECEIVED if handled else StripeEventState.IGNORED,
                processed_at=None if handled else timezone.now(),
            )
    except IntegrityError:
        return StripeEvent.objects.get(stripe_id=event["id"]), False
    return row, True


def _invoice_subscription_id(invoice: dict) -> str | None:
    # Since API version 2025-03-31 an invoice names its subscription under parent.
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    return _object_id(invoice.get("subscription")) or _object_id(parent.get("subscription"))


def _checkout_session_link(session: dict) -> None:
    """Link a Checkout-created customer to its user when we did not create it ourselves."""
    customer_id = _object_id(session.get("customer"))
    user_id = session.get("client_reference_id") or (session.get("metadata") or {}).get("user_id")
    if not customer_id or not user_id or not str(user_id).isdigit():
        return
    user = User.objects.filter(pk=int(user_id)).first()
    if user is not None and not BillingCustomer.objects.filter(user=user).exists():
        BillingCustomer.objects.get_or_create(
            stripe_customer_id=customer_id, defaults={"user": user}
        )


def _event_dispatch(event: StripeEvent) -> bool:
    """Apply one event. True when it changed or confirmed our state, False when not ours."""
    obj = event.payload["data"]["object"]
    if event.type == "checkout.session.completed":
        if obj.get("mode") != "subscription" or not obj.get("subscription"):
            return False
        _checkout_session_link(obj)
        subscription_id = _object_id(obj["subscription"])
    elif event.type.startswith("customer.subscription."):
        subscription_id = obj["id"]
    elif event.type.startswith("invoice."):
        subscription_id = _invoice_subscription_id(obj)
        if not subscription_id:
            return False
    else:
        return False
    return subscription_sync(
        stripe_subscription_id=subscription_id,
        stripe_customer_id=_object_id(obj.get("customer")),
    )


def stripe_event_process(*, stripe_event: StripeEvent) -> StripeEvent:
    """Process a stored event unless it already was; a failure is recorded, never raised.

    Run for a new event, again for a redelivered failed one, and from the admin action.
    """
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().get(pk=stripe_event.pk)
        if event.state in (StripeEventState.PROCESSED, StripeEventState.IGNORED):
            return event
        event.attempts += 1
        try:
            with transaction.atomic():
                applied = _event_dispatch(event)
        except Exception as exc:
            # Any failure (Stripe unreachable, a payload we did not expect) is kept on the row
            # for staff to see and re-process; Stripe also retries because we answer 500.
            logger.exception("Stripe event %s failed", event.stripe_id)
            event.state = StripeEventState.FAILED
            event.error = f"{type(exc).__name__}: {exc}"
        else:
            event.state = StripeEventState.PROCESSED if applied else StripeEventState.IGNORED
            event.error = "" if applied else "Not about one of our customers or subscriptions."
            event.processed_at = timezone.now()
        event.save(update_fields=["state", "error", "processed_at", "attempts"])
    return event
