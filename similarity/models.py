import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from market.models import ChartInterval


class SavedSearch(models.Model):
    """One search a user ran: what was asked, the pattern it resolved to, and what came back.

    The primary key is a random UUID, so a permalink cannot be guessed; only the owner reads it.
    `spec`, `options` and `result` follow the schema documented in similarity/services.py.
    """

    class Source(models.TextChoices):
        STOCK = "stock", _("a stock and a date range")
        PRICES = "prices", _("pasted prices")
        SKETCH = "sketch", _("a sketch")

    class Mode(models.TextChoices):
        HISTORY = "history", _("history")
        LATEST = "latest", _("latest")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_searches",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    source = models.CharField(_("pattern source"), max_length=8, choices=Source)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode, default=Mode.HISTORY)
    label = models.CharField(_("label"), max_length=200, blank=True)
    spec = models.JSONField(_("pattern as given"))
    pattern = models.JSONField(_("pattern prices"))
    options = models.JSONField(_("options"), default=dict)
    result = models.JSONField(_("result"), default=dict)
    match_count = models.PositiveIntegerField(_("matches"), default=0)
    elapsed_ms = models.FloatField(_("time taken (ms)"), default=0)
    snapshot_id = models.CharField(_("snapshot"), max_length=64, blank=True)
    snapshot_date = models.DateField(_("data up to"), null=True, blank=True)
    # The pattern was a stock's latest stretch (ending on the data's last day): its outcome is
    # graded once newer bars arrive (the track record).
    tracks_outcome = models.BooleanField(_("graded as data arrives"), default=False)
    rerun_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reruns",
        verbose_name=_("run again from"),
    )

    class Meta:
        verbose_name = _("saved search")
        verbose_name_plural = _("saved searches")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="savedsearch_user_created_idx"),
            models.Index(
                fields=["created_at"],
                condition=models.Q(tracks_outcome=True),
                name="savedsearch_tracked_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.label or str(self.id)


class CalibrationRun(models.Model):
    """One walk-forward calibration of the search: how often what followed past patterns fell
    inside the forecast's ranges, its skill against the base rate, and the verdicts' hit and
    firing rates beside a date-only control. `table` is
    `similarity.engine.walkforward.calibration_table`'s (`cells`, `horizons`, `verdicts_any`);
    runs from before the forecast hold a list of rows and have no ForecastModel."""

    created_at = models.DateTimeField(_("computed"), auto_now_add=True)
    snapshot_id = models.CharField(_("snapshot"), max_length=64, blank=True)
    snapshot_date = models.DateField(_("data up to"), null=True, blank=True)
    samples = models.PositiveIntegerField(_("samples"))
    lengths = models.JSONField(_("pattern lengths"))
    horizons = models.JSONField(_("horizons"))
    k = models.PositiveIntegerField(_("matches per sample"))
    seed = models.BigIntegerField(_("random seed"))
    elapsed_seconds = models.FloatField(_("time taken (s)"))
    table = models.JSONField(_("table"))
    # The closes calibrated on: its forecast serves searches of this interval only.
    interval = models.CharField(
        _("chart interval"),
        max_length=5,
        default="day",
        choices=ChartInterval.choices,
    )
    demo = models.BooleanField(
        _("demo sample"),
        default=False,
        help_text=_("Computed on the demo market with a smaller sample, to fill the page."),
    )

    class Meta:
        verbose_name = _("calibration run")
        verbose_name_plural = _("calibration runs")
        ordering = ["-created_at"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d} ({self.samples})"


class ForecastModel(models.Model):
    """The forecast's parameters learned by one calibration (`similarity.engine.forecast.
    ForecastParams` as JSON); searches apply the latest. Its id is the version a result names."""

    calibration = models.OneToOneField(
        CalibrationRun,
        on_delete=models.CASCADE,
        related_name="forecast_model",
        verbose_name=_("calibration"),
    )
    created_at = models.DateTimeField(_("learned"), auto_now_add=True)
    snapshot_date = models.DateField(_("data up to"), null=True, blank=True)
    params = models.JSONField(_("parameters"))

    class Meta:
        verbose_name = _("forecast model")
        verbose_name_plural = _("forecast models")
        ordering = ["-created_at", "-pk"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"v{self.pk} ({self.snapshot_date})"


class SearchGrade(models.Model):
    """The track record of a saved search whose pattern was a stock's latest stretch: what the
    stock then did at one horizon, and where that fell among the matches' outcomes."""

    saved_search = models.ForeignKey(
        SavedSearch, on_delete=models.CASCADE, related_name="grades", verbose_name=_("search")
    )
    horizon = models.PositiveIntegerField(_("horizon (bars of the interval)"))
    # The search's interval: its horizons count trading days, weeks or months.
    interval = models.CharField(
        _("chart interval"),
        max_length=5,
        default="day",
        choices=ChartInterval.choices,
    )
    code = models.CharField(_("code"), max_length=5)
    base_date = models.DateField(_("pattern's last day"))
    outcome_date = models.DateField(_("outcome day"))
    realised_return = models.FloatField(_("realised return"))
    percentile = models.FloatField(_("percentile among the matches"))
    inside_80 = models.BooleanField(_("inside the 10-90 band"))
    inside_50 = models.BooleanField(_("inside the 25-75 band"))
    graded_at = models.DateTimeField(_("graded"), auto_now_add=True)

    class Meta:
        verbose_name = _("search grade")
        verbose_name_plural = _("search grades")
        ordering = ["saved_search", "horizon"]
        constraints = [
            models.UniqueConstraint(
                fields=["saved_search", "horizon"], name="searchgrade_unique_search_horizon"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.saved_search_id} {self.horizon}d"
