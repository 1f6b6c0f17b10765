"""Billing writes: Stripe customers, checkout and portal sessions, and their erasure.

Access never follows a redirect back from Stripe: only `subscription_sync`, fed by webhooks, writes
subscriptions, and it always writes what Stripe's API says now, not what an event carried.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from billing import gateway
from billing.entitlements import PAID_STATUSES
from billing.models import (
    LIVE_STATUSES,
    BillingCustomer,
    Plan,
    Subscription,
    SubscriptionStatus,
)
from billing.subscriptions import subscription_sync
from core.errors import DomainError

logger = logging.getLogger(__name__)
User = get_user_model()

INTERVALS = {"monthly": "month", "yearly": "year"}
# How long a Checkout attempt keeps others of the same user out: longer than its Stripe calls
# can take (see STRIPE_TIMEOUT_SECONDS), short enough that a request that died frees it soon.
CHECKOUT_CLAIM_SECONDS = 60
ALREADY_SUBSCRIBED = _("You already have a subscription: manage it in the billing portal.")


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
    """The user's one Stripe customer, created on first use.

    Stripe is called outside any transaction. Concurrent first uses send the same idempotency
    key, so Stripe answers them all with one customer; the unique user column keeps one row.
    """
    existing = BillingCustomer.objects.filter(user=user).first()
    if existing:
        return existing
    customer = gateway.customer_create(email=user.email, user_id=user.pk, locale=_language())
    try:
        with transaction.atomic():
            return BillingCustomer.objects.create(user=user, stripe_customer_id=customer["id"])
    except IntegrityError:
        return BillingCustomer.objects.get(user=user)


def _checkout_claim(customer: BillingCustomer) -> bool:
    """Mark the customer as opening a Checkout session; False when another request already is.

    One conditional UPDATE decides, so of two concurrent attempts exactly one goes on. A claim
    left by a request that died expires after CHECKOUT_CLAIM_SECONDS.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=CHECKOUT_CLAIM_SECONDS)
    return bool(
        BillingCustomer.objects.filter(pk=customer.pk)
        .filter(Q(checkout_started_at__isnull=True) | Q(checkout_started_at__lt=stale))
        .update(checkout_started_at=now)
    )


def _language() -> str:
    """The page's language, which Stripe's checkout, portal and receipts then speak."""
    return translation.get_language() or settings.LANGUAGE_CODE


def checkout_session_start(*, user: User, plan: Plan, interval: str) -> str:
    """Create a Checkout Session in subscription mode and return the address to send the user.

    Two sessions must never both be payable: Stripe itself is asked whether the customer already
    has a running subscription (our rows follow webhooks, which may not have arrived yet), any
    session still open for the customer is expired first, and concurrent attempts of one user
    are serialised by a claim on their customer row, taken and released without holding a lock
    across the Stripe calls.
    """
    if not gateway.payments_configured():
        raise PaymentsNotConfiguredError()
    price_id = plan.stripe_price_yearly if interval == "yearly" else plan.stripe_price_monthly
    if interval not in INTERVALS or not price_id:
        raise BillingError(_("This plan cannot be bought yet."))
    if Subscription.objects.filter(user=user, status__in=LIVE_STATUSES).exists():
        raise BillingError(ALREADY_SUBSCRIBED)
    customer = billing_customer_get_or_create(user=user)
    if not _checkout_claim(customer):
        raise BillingError(
            _("A checkout is already open for you: use that window, or try again in a minute.")
        )
    try:
        live = gateway.subscriptions_live(customer_id=customer.stripe_customer_id)
        if live:
            for subscription in live:
                subscription_sync(
                    stripe_subscription_id=subscription["id"],
                    stripe_customer_id=customer.stripe_customer_id,
                )
            raise BillingError(ALREADY_SUBSCRIBED)
        for open_session in gateway.checkout_sessions_open(customer_id=customer.stripe_customer_id):
            gateway.checkout_session_expire(session_id=open_session["id"])
        session = gateway.checkout_session_create(
            customer_id=customer.stripe_customer_id,
            price_id=price_id,
            user_id=user.pk,
            success_url=_absolute(reverse("billing:success")) + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=_absolute(reverse("pricing")),
            locale=_language(),
        )
        BillingCustomer.objects.filter(pk=customer.pk).update(checkout_opened_at=timezone.now())
    finally:
        BillingCustomer.objects.filter(pk=customer.pk).update(checkout_started_at=None)
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


def billing_customer_erase(*, user: User) -> None:
    """Before a user is deleted: delete their Stripe customer, which ends any subscription at
    once (Stripe keeps the invoices), so that nobody is charged for an account that is gone."""
    customer = BillingCustomer.objects.filter(user=user).first()
    if customer is None:
        return
    if gateway.payments_configured():
        try:
            gateway.customer_delete(customer_id=customer.stripe_customer_id)
        except gateway.StripeError as exc:
            logger.exception("deleting Stripe customer %s failed", customer.stripe_customer_id)
            raise BillingError(_("Stripe could not be reached: try again in a minute.")) from exc
    elif Subscription.objects.filter(
        user=user, status__in=[*PAID_STATUSES, SubscriptionStatus.PAST_DUE]
    ).exists():
        raise PaymentsNotConfiguredError(
            _("Payments are not configured here: cancel the subscription in Stripe first.")
        )
