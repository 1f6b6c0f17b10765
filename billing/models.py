from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Plan(models.Model):
    """What a plan unlocks and what it costs. Staff edit the numbers in admin."""

    FREE_SLUG = "free"

    name = models.CharField(_("name"), max_length=60)
    slug = models.SlugField(_("slug"), unique=True)
    rank = models.PositiveSmallIntegerField(
        _("rank"),
        default=0,
        help_text=_("When a user holds several plans at once, the highest rank applies."),
    )
    is_public = models.BooleanField(_("shown on the pricing page"), default=True)
    price_monthly = models.PositiveIntegerField(
        _("monthly price (yen)"), default=0, help_text=_("0 for a free plan.")
    )
    price_yearly = models.PositiveIntegerField(_("yearly price (yen)"), default=0)
    stripe_product_id = models.CharField(_("Stripe product id"), max_length=255, blank=True)
    stripe_price_monthly = models.CharField(
        _("Stripe monthly price id"),
        max_length=255,
        blank=True,
        help_text=_("A price id (price_…) or a legacy plan id; set by manage.py stripe_setup."),
    )
    stripe_price_yearly = models.CharField(_("Stripe yearly price id"), max_length=255, blank=True)
    searches_per_day = models.PositiveIntegerField(_("searches a day"))
    max_matches = models.PositiveIntegerField(_("matches shown"))
    history_years = models.PositiveSmallIntegerField(
        _("history searched (years)"),
        null=True,
        blank=True,
        help_text=_("Empty: all of the history."),
    )
    all_horizons = models.BooleanField(
        _("outcomes for all horizons"),
        default=False,
        help_text=_("Off: outcome statistics and scenario groups for the first horizon only."),
    )
    api_access = models.BooleanField(_("API token"), default=False)
    csv_export = models.BooleanField(_("CSV export"), default=False)
    api_requests_per_minute = models.PositiveIntegerField(_("API requests a minute"), default=30)
    max_alerts = models.PositiveIntegerField(
        _("shape alerts"),
        default=1,
        help_text=_("Active alerts a user may keep; lowering it pauses the newest ones."),
    )
    max_watchlist = models.PositiveIntegerField(
        _("watchlist stocks"),
        default=10,
        help_text=_(
            "Stocks a user may keep in their watchlist; lowering it keeps the stocks already "
            "there but adds no more."
        ),
    )
    line_alerts = models.BooleanField(
        _("alerts on LINE"),
        default=False,
        help_text=_(
            "Alert digests pushed to LINE as well as mailed; each push costs the operator."
        ),
    )

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["rank", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_free(self) -> bool:
        return self.price_monthly == 0 and self.price_yearly == 0

    @property
    def yearly_saving(self) -> int:
        """What paying yearly saves against twelve monthly payments, in yen (0: nothing)."""
        if not self.price_monthly or not self.price_yearly:
            return 0
        return max(0, self.price_monthly * 12 - self.price_yearly)


class PlanPrice(models.Model):
    """Every Stripe price (or legacy plan) id a plan has ever been sold under.

    A plan's current ids change when staff change an amount, but subscribers keep paying the price
    they signed up at: a subscription is mapped to its plan through this history, never through
    the plan's current ids alone.
    """

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="stripe_prices")
    stripe_price_id = models.CharField(_("Stripe price id"), max_length=255, unique=True)
    interval = models.CharField(_("interval"), max_length=8, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("Stripe price of a plan")
        verbose_name_plural = _("Stripe prices of plans")
        ordering = ["plan", "-created_at"]

    def __str__(self) -> str:
        return self.stripe_price_id


class BillingCustomer(models.Model):
    """The one Stripe customer of a user, created the first time they go to checkout."""

    # Deleting a user goes through accounts.services.account_delete, which deletes the Stripe
    # customer (ending its subscriptions) first; Stripe keeps the invoices.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing_customer"
    )
    stripe_customer_id = models.CharField(_("Stripe customer id"), max_length=255, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Stripe is read outside any row lock: each read of one of the customer's subscriptions
    # first takes the next ticket, and a stored read is only ever replaced by a later ticket's
    # (see billing.subscriptions.subscription_sync).
    sync_ticket = models.PositiveBigIntegerField(default=0, editable=False)
    # Set while one request opens a Checkout session for this customer, so that a second,
    # concurrent attempt does not open another one (see billing.services.checkout_session_start).
    checkout_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When a Checkout session was last opened for this customer: a subscription it created whose
    # webhooks were all lost is looked for by the reconcile for a while after
    # (billing.subscriptions.subscriptions_reconcile).
    checkout_opened_at = models.DateTimeField(
        _("checkout last opened"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("billing customer")
        verbose_name_plural = _("billing customers")

    def __str__(self) -> str:
        return self.stripe_customer_id


class SubscriptionStatus(models.TextChoices):
    INCOMPLETE = "incomplete", _("incomplete")
    INCOMPLETE_EXPIRED = "incomplete_expired", _("incomplete, expired")
    TRIALING = "trialing", _("trialing")
    ACTIVE = "active", _("active")
    PAST_DUE = "past_due", _("past due")
    CANCELED = "canceled", _("canceled")
    UNPAID = "unpaid", _("unpaid")
    PAUSED = "paused", _("paused")


# The statuses that give a subscription's plan: paid ones always, past_due during the grace period
# that billing.entitlements allows. The others give nothing.
PAID_STATUSES = (SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE)
LIVE_STATUSES = (*PAID_STATUSES, SubscriptionStatus.PAST_DUE)


class Subscription(models.Model):
    """Our copy of a Stripe subscription, always written from a fresh read of Stripe's API."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    plan = models.ForeignKey(
        Plan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("Empty when Stripe's price matches none of our plans."),
    )
    stripe_subscription_id = models.CharField(
        _("Stripe subscription id"), max_length=255, unique=True
    )
    stripe_customer_id = models.CharField(_("Stripe customer id"), max_length=255)
    stripe_price_id = models.CharField(_("Stripe price id"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=32, choices=SubscriptionStatus.choices)
    current_period_end = models.DateTimeField(_("current period ends"), null=True, blank=True)
    cancel_at_period_end = models.BooleanField(_("cancels at period end"), default=False)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    past_due_since = models.DateTimeField(
        _("past due since"),
        null=True,
        blank=True,
        help_text=_("When we first saw it past due; the grace period counts from here."),
    )
    synced_at = models.DateTimeField(_("last read from Stripe"), auto_now=True)
    sync_ticket = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-synced_at"]

    def __str__(self) -> str:
        return f"{self.stripe_subscription_id} ({self.status})"


class ComplimentaryGrant(models.Model):
    """A plan that staff give a user for free until a date, without Stripe."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="complimentary_grants"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("complimentary plan")
        verbose_name_plural = _("complimentary plans")
        ordering = ["-ends_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="billing_grant_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan} for {self.user} until {self.ends_at:%Y-%m-%d}"


class StripeEventState(models.TextChoices):
    RECEIVED = "received", _("received")
    PROCESSING = "processing", _("processing")
    PROCESSED = "processed", _("processed")
    IGNORED = "ignored", _("ignored")
    FAILED = "failed", _("failed")


class StripeEvent(models.Model):
    """Append-only log of the webhook events Stripe sent, one row per Stripe event id."""

    stripe_id = models.CharField(_("Stripe event id"), max_length=255, unique=True)
    type = models.CharField(_("type"), max_length=100, db_index=True)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=StripeEventState.choices,
        default=StripeEventState.RECEIVED,
        db_index=True,
    )
    attempts = models.PositiveSmallIntegerField(_("processing attempts"), default=0)
    claimed_at = models.DateTimeField(
        _("processing started"),
        null=True,
        blank=True,
        help_text=_("A claim older than a few minutes is from a request that died; it expires."),
    )
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.stripe_id} {self.type}"
