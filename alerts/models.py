"""Shape alerts: a saved pattern checked in latest mode after each day's data, and its hits."""

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
    """The one mail a user gets for a data date, listing every new hit; its delivery record."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed, will be retried")
        UNSUBSCRIBED = "unsubscribed", _("not sent: alert mails paused")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="alert_digests",
        verbose_name=_("user"),
    )
    data_date = models.DateField(_("data date"))
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("send attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

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
        return f"{self.user} {self.data_date} ({self.state})"


class AlertMailPreference(models.Model):
    """Whether a user gets alert mails; the one-click unsubscribe link turns them off."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="alert_mail_preference",
        verbose_name=_("user"),
    )
    mails_enabled = models.BooleanField(_("alert mails"), default=True)
    changed_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("alert mail preference")
        verbose_name_plural = _("alert mail preferences")

    def __str__(self) -> str:
        return f"{self.user}: {'on' if self.mails_enabled else 'off'}"
