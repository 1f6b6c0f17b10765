"""Subscription writes from Stripe: the webhook log and its events, and the sync of a
subscription to what Stripe's API says now (never what an event carried)."""

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from billing import gateway
from billing.models import (
    BillingCustomer,
    Plan,
    PlanPrice,
    StripeEvent,
    StripeEventState,
    Subscription,
    SubscriptionStatus,
)
from billing.signals import entitlements_changed

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
# A webhook event claimed for longer than this is from a request that died: it may be re-run.
EVENT_CLAIM_EXPIRY = timedelta(minutes=5)


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


def _plan_for(data: dict, price_id: str) -> Plan | None:
    """The plan a subscription pays for, through every price id the plan has ever had.

    A price we have not recorded (made in the dashboard, or before the history existed) is
    matched by its product or its `stocksite_plan` metadata, and recorded for next time.
    """
    if not price_id:
        return None
    recorded = PlanPrice.objects.filter(stripe_price_id=price_id).select_related("plan").first()
    if recorded:
        return recorded.plan
    plan = (
        Plan.objects.filter(Q(stripe_price_monthly=price_id) | Q(stripe_price_yearly=price_id))
        .order_by("-rank")
        .first()
    )
    item = _first_item(data)
    price = item.get("price") or item.get("plan")
    if plan is None and isinstance(price, dict):
        product_id = _object_id(price.get("product"))
        slug = (price.get("metadata") or {}).get("stocksite_plan")
        if product_id:
            plan = Plan.objects.filter(stripe_product_id=product_id).order_by("-rank").first()
        if plan is None and slug:
            plan = Plan.objects.filter(slug=slug).first()
    if plan is not None:
        interval = ((price or {}).get("recurring") or {}).get("interval") or (price or {}).get(
            "interval", ""
        )
        PlanPrice.objects.get_or_create(
            stripe_price_id=price_id, defaults={"plan": plan, "interval": interval or ""}
        )
    return plan


def _sync_ticket_take(stripe_customer_id: str) -> int | None:
    """The customer's next sync ticket, or None when the customer is not ours."""
    with transaction.atomic():
        taken = BillingCustomer.objects.filter(stripe_customer_id=stripe_customer_id).update(
            sync_ticket=F("sync_ticket") + 1
        )
        if not taken:
            return None
        return (
            BillingCustomer.objects.filter(stripe_customer_id=stripe_customer_id)
            .values_list("sync_ticket", flat=True)
            .get()
        )


def subscription_sync(*, stripe_subscription_id: str, stripe_customer_id: str) -> bool:
    """Re-read a subscription from Stripe and store it. False when the customer is not ours.

    Stripe is read with no transaction open (a slow Stripe must not hold row locks). A ticket,
    taken before the read, orders the reads of one customer: a stored read is replaced only by
    one that started later, so of two concurrent syncs the stored state never goes back in time.
    Must not be called inside a transaction.
    """
    ticket = _sync_ticket_take(stripe_customer_id)
    if ticket is None:
        return False
    data = gateway.subscription_retrieve(subscription_id=stripe_subscription_id)
    if _object_id(data.get("customer")) != stripe_customer_id:
        raise ValueError(
            f"subscription {stripe_subscription_id} belongs to {data.get('customer')}, "
            f"not {stripe_customer_id}"
        )
    price_id = _price_id(data)
    plan = _plan_for(data, price_id)
    status = data["status"]
    if status not in SubscriptionStatus.values:
        raise ValueError(f"unknown subscription status {status!r}")
    with transaction.atomic():
        customer = (
            BillingCustomer.objects.select_for_update()
            .select_related("user")
            .get(stripe_customer_id=stripe_customer_id)
        )
        existing = Subscription.objects.filter(
            stripe_subscription_id=stripe_subscription_id
        ).first()
        if existing is not None and existing.sync_ticket > ticket:
            return True  # a read that started after ours is already stored
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
                "sync_ticket": ticket,
            },
        )
    # A cancelled or lapsed subscription may leave the user more alerts than the plan allows.
    entitlements_changed.send(sender=Subscription, user=customer.user)
    return True


# Subscriptions in these statuses never change again: reconciling them is a wasted call.
FINAL_STATUSES = (SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED)
# Stripe's Checkout sessions expire within 24 hours: a subscription one created exists by then.
# The reconcile asks about customers who opened one within this window.
CHECKOUT_DISCOVERY = timedelta(days=2)


def subscriptions_reconcile() -> dict:
    """Re-read from Stripe every subscription that is not final, whatever webhooks said, and
    look for the ones we never heard of.

    A lost `customer.subscription.deleted` (or any lost event) is corrected here. A subscription
    whose events were all lost is not stored at all: each customer who opened a Checkout session
    in the last CHECKOUT_DISCOVERY and has no running subscription stored is asked about (one
    Stripe call each), and what Stripe holds is stored. One failure is logged and the rest go on.
    """
    counts = {"synced": 0, "discovered": 0, "failed": 0}
    pending = Subscription.objects.exclude(status__in=FINAL_STATUSES).values_list(
        "stripe_subscription_id", "stripe_customer_id"
    )
    for subscription_id, customer_id in pending.iterator():
        if _reconciled(subscription_id, customer_id):
            counts["synced"] += 1
        else:
            counts["failed"] += 1
    for customer_id in _customers_to_ask():
        try:
            live = gateway.subscriptions_live(customer_id=customer_id)
        except gateway.StripeError:
            logger.exception("Listing the subscriptions of customer %s failed", customer_id)
            counts["failed"] += 1
            continue
        for data in live:
            if _reconciled(data["id"], customer_id):
                counts["discovered"] += 1
            else:
                counts["failed"] += 1
    return counts


def _reconciled(subscription_id: str, customer_id: str) -> bool:
    try:
        subscription_sync(stripe_subscription_id=subscription_id, stripe_customer_id=customer_id)
    except (gateway.StripeError, ValueError):
        logger.exception("Reconciling subscription %s failed", subscription_id)
        return False
    return True


def _customers_to_ask() -> list[str]:
    """Customers who opened a Checkout session lately and have no running subscription stored."""
    running = Subscription.objects.exclude(status__in=FINAL_STATUSES).values("stripe_customer_id")
    return list(
        BillingCustomer.objects.filter(checkout_opened_at__gte=timezone.now() - CHECKOUT_DISCOVERY)
        .exclude(stripe_customer_id__in=running)
        .values_list("stripe_customer_id", flat=True)
    )


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


def _stripe_event_claim(pk: int) -> StripeEvent | None:
    """Mark an event as being processed by this request, or None when it is done or another
    request is on it. One conditional UPDATE decides; no lock is held while Stripe is called."""
    now = timezone.now()
    claimable = Q(state__in=[StripeEventState.RECEIVED, StripeEventState.FAILED]) | Q(
        state=StripeEventState.PROCESSING, claimed_at__lt=now - EVENT_CLAIM_EXPIRY
    )
    claimed = StripeEvent.objects.filter(claimable, pk=pk).update(
        state=StripeEventState.PROCESSING, claimed_at=now, attempts=F("attempts") + 1
    )
    return StripeEvent.objects.get(pk=pk) if claimed else None


def stripe_event_process(*, stripe_event: StripeEvent) -> StripeEvent:
    """Process a stored event unless it already was; a failure is recorded, never raised.

    Run for a new event, again for a redelivered failed one, and from the admin action. Of
    concurrent deliveries one claims the event and the others return it as it is (processing).
    """
    event = _stripe_event_claim(stripe_event.pk)
    if event is None:
        return StripeEvent.objects.get(pk=stripe_event.pk)
    try:
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
    event.claimed_at = None
    event.save(update_fields=["state", "error", "processed_at", "claimed_at"])
    return event


def stripe_events_purge(*, now: datetime | None = None) -> int:
    """Empty the payloads (customer names, emails, addresses) of webhook events older than
    STRIPE_EVENT_RETENTION_DAYS; the rows stay, so a late duplicate is still recognised."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.STRIPE_EVENT_RETENTION_DAYS)
    return StripeEvent.objects.filter(received_at__lt=cutoff).exclude(payload={}).update(payload={})
