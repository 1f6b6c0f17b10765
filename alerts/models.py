"""Shape alerts: a saved pattern checked in latest mode after each day's data, and its hits."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# The correlation an alert asks for: one home for the form, the serializer and the database.
THRESHOLD_MIN = 0.80
THRESHOLD_MAX = 0.99
THRESHOLD_DEFAULT = 0.90


class Alert(models.Model):
    """A user's pattern, watched across the market after every daily update.

    `spec` is the pattern as given (the search's PatternSpec, see similarity/services.py);
    `pattern` the prices it resolved to when the alert was made: a stock's range is frozen then,
    so later split adjustments do not change what is watched.
    """

    class Source(models.TextChoices):
        STOCK = "stock", _("a stock and a date range")
        PRICES = "prices", _("pasted prices")
        SKETCH = "sketch", _("a sketch")

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        PAUSED = "paused", _("paused")

    class PausedBy(models.TextChoices):
        NOBODY = "", _("not paused")
        USER = "user", _("you")
        PLAN = "plan", _("the plan's alert limit")

    class Universe(models.TextChoices):
        MARKET = "market", _("the whole market")
        WATCHLIST = "watchlist", _("your watchlist")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="alerts",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=200)
    source = models.CharField(_("pattern source"), max_length=8, choices=Source)
    spec = models.JSONField(_("pattern as given"))
    pattern = models.JSONField(_("pattern prices"))
    threshold = models.FloatField(
        _("minimum correlation"),
        default=THRESHOLD_DEFAULT,
        validators=[MinValueValidator(THRESHOLD_MIN), MaxValueValidator(THRESHOLD_MAX)],
    )
    segment = models.CharField(_("market segment"), max_length=100, blank=True)
    sector = models.CharField(_("sector"), max_length=100, blank=True)
    min_turnover = models.FloatField(_("minimum daily turnover (yen)"), default=0)
    universe = models.CharField(
        _("stocks checked"),
        max_length=16,
        choices=Universe,
        default=Universe.MARKET,
        help_text=_("Your watchlist: only the stocks in it when the alert is checked."),
    )
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.ACTIVE)
    paused_by = models.CharField(
        _("paused by"), max_length=8, choices=PausedBy, default=PausedBy.NOBODY, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_checked_date = models.DateField(
        _("data date last checked"),
        null=True,
        blank=True,
        help_text=_("The last trading day of the data this alert was last checked against."),
    )
    hits_not_kept = models.PositiveIntegerField(
        _("hits not kept on the last check"),
        default=0,
        help_text=_("Stocks that matched beyond the best ones kept (alerts.limits)."),
    )

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "last_checked_date"], name="alert_status_checked_idx"),
            models.Index(fields=["user", "-created_at"], name="alert_user_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(threshold__gte=THRESHOLD_MIN, threshold__lte=THRESHOLD_MAX),
                name="alert_threshold_range",
            ),
            models.CheckConstraint(
                condition=models.Q(min_turnover__gte=0), name="alert_min_turnover_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def length(self) -> int:
        return len(self.pattern)


class WatchlistEntry(models.Model):
    """A stock a user follows (お気に入り): one row per user and stock. The plan's
    `max_watchlist` (billing) bounds how many; alerts may check only these stocks."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="watchlist_entries",
        verbose_name=_("user"),
    )
    stock = models.ForeignKey(
        "market.Stock",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("stock"),
    )
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("watchlist entry")
        verbose_name_plural = _("watchlist entries")
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "stock"], name="watchlist_unique_user_stock")
        ]
        indexes = [models.Index(fields=["user", "-added_at"], name="watchlist_user_added_idx")]

    def __str__(self) -> str:
        return f"{self.user} ♥ {self.stock_id}"


class AlertHit(models.Model):
    """A stock whose latest window looked like an alert's pattern on one data date."""

    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, related_name="hits", verbose_name=_("alert")
    )
    data_date = models.DateField(_("data date"))
    code = models.CharField(_("code"), max_length=8)
    name = models.CharField(_("stock name"), max_length=200, blank=True)
    correlation = models.FloatField(_("correlation"))
    start_date = models.DateField(_("window starts"))
    end_date = models.DateField(_("window ends"))
    last_close = models.FloatField(_("last close"))
    created_at = models.DateTimeField(_("found"), auto_now_add=True)

    class Meta:
        verbose_name = _("alert hit")
        verbose_name_plural = _("alert hits")
        ordering = ["-data_date", "-correlation"]
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "data_date", "code"], name="alerthit_unique_alert_date_code"
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert} {self.code} {self.data_date}"


class AlertDigest(models.Model):
    """What a user is told for a data date: every new hit of their alerts, once, on each channel
    they chose (its deliveries)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="alert_digests",
        verbose_name=_("user"),
    )
    data_date = models.DateField(_("data date"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("alert digest")
        verbose_name_plural = _("alert digests")
        ordering = ["-data_date", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "data_date"], name="alertdigest_unique_user_date"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.data_date}"


class Channel(models.TextChoices):
    MAIL = "mail", _("mail")
    LINE = "line", "LINE"


class AlertDelivery(models.Model):
    """One digest on one channel: its own state, attempts and error, so that a channel that
    fails is retried alone and never holds the other back."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed, will be retried")
        REJECTED = "rejected", _("failed, not retried")
        OFF = "off", _("not sent: the channel was turned off")

    # The states that still wait to be sent.
    DUE_STATES = (State.PENDING, State.FAILED)

    digest = models.ForeignKey(
        AlertDigest,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("digest"),
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel)
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("send attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(
        _("not before"),
        null=True,
        blank=True,
        help_text=_("Set when the provider asked us to wait (Retry-After)."),
    )
    # Sent with every try of a LINE push (X-Line-Retry-Key): LINE accepts one message per key, so
    # a retry after a timeout cannot send the digest twice.
    retry_key = models.UUIDField(_("retry key"), default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert delivery")
        verbose_name_plural = _("alert deliveries")
        ordering = ["-digest__data_date", "digest", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["digest", "channel"], name="alertdelivery_unique_digest_channel"
            )
        ]
        indexes = [models.Index(fields=["state", "channel"], name="alertdelivery_state_idx")]

    def __str__(self) -> str:
        return f"{self.digest} {self.channel} ({self.state})"


class AlertChannelPreference(models.Model):
    """The channels a user's digests go to. Mail is on until the user (or the one-click
    unsubscribe link) turns it off; LINE is turned on by linking a LINE account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="alert_channel_preference",
        verbose_name=_("user"),
    )
    mails_enabled = models.BooleanField(_("alert mails"), default=True)
    line_enabled = models.BooleanField(_("alerts on LINE"), default=False)
    changed_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("alert channels")
        verbose_name_plural = _("alert channels")

    def __str__(self) -> str:
        mail, line = ("on" if on else "off" for on in (self.mails_enabled, self.line_enabled))
        return f"{self.user}: mail {mail}, LINE {line}"


class LineLink(models.Model):
    """A LINE account linked to a site account through LINE's account-link flow: the digests
    of a user who chose LINE are pushed to this LINE user id."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="line_link",
        verbose_name=_("user"),
    )
    line_user_id = models.CharField(_("LINE user id"), max_length=64, unique=True)
    linked_at = models.DateTimeField(_("linked"), auto_now_add=True)

    class Meta:
        verbose_name = _("LINE link")
        verbose_name_plural = _("LINE links")

    def __str__(self) -> str:
        return f"{self.user} ↔ {self.line_user_id}"


class LineLinkNonce(models.Model):
    """The nonce of one account-link attempt, bound to the signed-in user who started it.

    LINE returns it in the accountLink event; it is used once and expires.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    nonce = models.CharField(_("nonce"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("LINE link nonce")
        verbose_name_plural = _("LINE link nonces")

    def __str__(self) -> str:
        return f"{self.user} until {self.expires_at:%Y-%m-%d %H:%M}"


class LineWebhookEvent(models.Model):
    """A webhook event LINE sent, one row per webhookEventId: a redelivered event finds its row
    and is not handled again. The payload is cleared once the event is handled."""

    class State(models.TextChoices):
        RECEIVED = "received", _("received")
        PROCESSED = "processed", _("processed")
        FAILED = "failed", _("failed")

    webhook_event_id = models.CharField(_("webhook event id"), max_length=64, unique=True)
    type = models.CharField(_("type"), max_length=32)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.RECEIVED)
    attempts = models.PositiveSmallIntegerField(_("processing attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("LINE webhook event")
        verbose_name_plural = _("LINE webhook events")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.webhook_event_id} {self.type}"
