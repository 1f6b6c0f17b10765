from django.core.validators import RegexValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.text import normalize_search_text
from market.exchanges.tse.calendar import DayKind
from market.exchanges.tse.codes import CODE_PATTERN
from market.exchanges.tse.sectors import sector_label, segment_label
from market.exchanges.tse.underlying import Underlying

stock_code_validator = RegexValidator(
    regex=CODE_PATTERN,
    message=_("A stock code is four characters such as 7203 or 130A."),
)


class ChartInterval(models.TextChoices):
    """A chart's timeframe, as Japanese brokers name it: a bar a trading day (日足), a week
    (週足, Monday to Sunday) or a calendar month (月足), dated by its last trading day."""

    DAY = "day", _("Daily")
    WEEK = "week", _("Weekly")
    MONTH = "month", _("Monthly")


class Stock(models.Model):
    class Market(models.TextChoices):
        TSE = "TSE", _("Tokyo Stock Exchange")

    market = models.CharField(_("market"), max_length=8, choices=Market, default=Market.TSE)
    code = models.CharField(_("code"), max_length=5, validators=[stock_code_validator])
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    name_normalized = models.CharField(_("name for search"), max_length=200, editable=False)
    segment = models.CharField(_("market segment"), max_length=100, blank=True)
    sector33_code = models.CharField(_("33-sector code"), max_length=8, blank=True)
    sector33 = models.CharField(_("33-sector"), max_length=100, blank=True)
    sector17_code = models.CharField(_("17-sector code"), max_length=8, blank=True)
    sector17 = models.CharField(_("17-sector"), max_length=100, blank=True)
    size_code = models.CharField(_("size code"), max_length=8, blank=True)
    size_class = models.CharField(_("size class"), max_length=100, blank=True)
    underlying = models.CharField(
        _("underlying"),
        max_length=20,
        choices=Underlying,
        blank=True,
        help_text=_(
            "What this ETF or ETN follows. Funds of one underlying (an ETF and its leveraged or "
            "inverse twin) count as one market episode in a search's statistics. Set from the "
            "fund's name when the listing first names it; a choice made here is kept. Searches use "
            "it from the next snapshot."
        ),
    )
    is_listed = models.BooleanField(_("listed"), default=True)
    first_bar_date = models.DateField(_("first bar"), null=True, blank=True)
    last_bar_date = models.DateField(_("last bar"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("stock")
        verbose_name_plural = _("stocks")
        ordering = ["market", "code"]
        constraints = [
            models.UniqueConstraint(fields=["market", "code"], name="stock_unique_market_code"),
        ]
        indexes = [
            models.Index(fields=["name_normalized"], name="stock_name_norm_idx"),
            models.Index(fields=["segment"], name="stock_segment_idx"),
            models.Index(fields=["sector33_code"], name="stock_sector33_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs):
        # Derived from name; kept in step on every write path, admin included.
        self.name_normalized = normalize_search_text(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_normalized"}
        super().save(*args, **kwargs)

    @property
    def display_segment(self) -> str:
        return segment_label(self.segment)

    @property
    def display_sector(self) -> str:
        return sector_label(self.sector33_code, self.sector33)

    @property
    def display_name(self) -> str:
        """The name for the page's language: English where we have one, else as the exchange
        writes it."""
        if self.name_en and (translation.get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class DailyBar(models.Model):
    """One trading day of one stock: prices as traded, and the split-adjusted close.

    `adj_close / close` is the cumulative split factor of that day; adjusted open, high and low
    are the traded prices times the same factor.
    """

    # No index of its own: the unique (stock, date) index serves every lookup by stock.
    stock = models.ForeignKey(Stock, on_delete=models.CASCADE, related_name="bars", db_index=False)
    date = models.DateField(_("date"))
    open = models.FloatField(_("open"))
    high = models.FloatField(_("high"))
    low = models.FloatField(_("low"))
    close = models.FloatField(_("close"))
    volume = models.BigIntegerField(_("volume"))
    adj_close = models.FloatField(_("adjusted close"))

    class Meta:
        verbose_name = _("daily bar")
        verbose_name_plural = _("daily bars")
        ordering = ["stock", "date"]
        constraints = [
            models.UniqueConstraint(fields=["stock", "date"], name="dailybar_unique_stock_date"),
            models.CheckConstraint(
                condition=models.Q(high__gte=models.F("low")), name="dailybar_high_gte_low"
            ),
            models.CheckConstraint(condition=models.Q(volume__gte=0), name="dailybar_volume_gte_0"),
        ]
        indexes = [models.Index(fields=["date"], name="dailybar_date_idx")]

    def __str__(self) -> str:
        return f"{self.stock_id} {self.date}"

    @property
    def adj_factor(self) -> float:
        return self.adj_close / self.close if self.close else 1.0


class ScrapeRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        PARTIAL = "partial", _("partly failed")
        FAILED = "failed", _("failed")

    source = models.CharField(_("source"), max_length=50)
    trigger = models.CharField(_("trigger"), max_length=20, default="schedule")
    # What the run covers ("2024-01-04..2024-12-30", with codes when per stock): a stopped run
    # of the same scope is continued rather than started again.
    scope = models.CharField(_("scope"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    stocks_total = models.PositiveIntegerField(_("stocks"), default=0)
    stocks_done = models.PositiveIntegerField(_("stocks done"), default=0)
    stocks_failed = models.PositiveIntegerField(_("stocks failed"), default=0)
    bars_written = models.PositiveIntegerField(_("bars written"), default=0)
    splits_detected = models.PositiveIntegerField(_("splits detected"), default=0)
    errors = models.JSONField(_("errors per stock"), default=dict, blank=True)
    disagreements = models.JSONField(
        _("stored bars the source disagrees with"), default=dict, blank=True
    )
    # Rows the provider sent that failed validation and were skipped, the rest of their day
    # stored: {"7203 2026-11-13": reason}, at most REJECTED_ROWS_KEPT of them (then a count).
    rejected_rows = models.JSONField(_("provider rows skipped"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("last progress"), auto_now=True)

    class Meta:
        verbose_name = _("scrape run")
        verbose_name_plural = _("scrape runs")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["-started_at"], name="scraperun_started_idx")]
        constraints = [
            # Two deliveries of one sync task continue one run, never start two.
            models.UniqueConstraint(
                fields=["source", "scope"],
                condition=models.Q(status="running") & ~models.Q(scope=""),
                name="scraperun_one_running_per_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class ScrapeRunItem(models.Model):
    """One stock, day or step of a run, recorded once: a redelivered task finds it and counts
    nothing twice."""

    run = models.ForeignKey(ScrapeRun, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(_("stock, day or step"), max_length=20)
    bars_written = models.PositiveIntegerField(_("bars written"), default=0)
    error = models.TextField(_("error"), blank=True)
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("scrape run item")
        verbose_name_plural = _("scrape run items")
        constraints = [
            models.UniqueConstraint(fields=["run", "key"], name="scraperunitem_unique_run_key"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.key}"


class TradingDay(models.Model):
    """The exchange's calendar as its operator publishes it (J-Quants /markets/calendar)."""

    Kind = DayKind

    market = models.CharField(
        _("market"), max_length=8, choices=Stock.Market, default=Stock.Market.TSE
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)

    class Meta:
        verbose_name = _("trading calendar day")
        verbose_name_plural = _("trading calendar")
        ordering = ["market", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["market", "date"], name="tradingday_unique_market_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.kind}"

    @property
    def is_open(self) -> bool:
        return self.kind != self.Kind.CLOSED


class SplitAdjustment(models.Model):
    """A split found by a scrape, and the re-adjustment of the stored history it caused.

    A site that shows its history adjusted reveals a split when the days it shows again differ
    from the stored ones by one constant ratio. The raw prices stay as traded; every stored
    adj_close up to `effective_after` was divided by `ratio` (shares after / shares before).
    """

    stock = models.ForeignKey(Stock, on_delete=models.CASCADE, related_name="split_adjustments")
    source = models.CharField(_("source"), max_length=50)
    ratio = models.FloatField(_("ratio"))
    effective_after = models.DateField(_("last bar before the split"))
    bars_adjusted = models.PositiveIntegerField(_("bars re-adjusted"), default=0)
    scrape_run = models.ForeignKey(
        ScrapeRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="splits"
    )
    detected_at = models.DateTimeField(_("detected"), auto_now_add=True)

    class Meta:
        verbose_name = _("split adjustment")
        verbose_name_plural = _("split adjustments")
        ordering = ["-detected_at"]

    def __str__(self) -> str:
        return f"{self.stock_id} 1:{self.ratio:g} after {self.effective_after}"


class HeldAdjFactor(models.Model):
    """A split factor the provider gave outside ADJ_FACTOR_MIN..MAX (market.exchanges.tse.jquants):
    the day's bar was stored as traded but the factor was not applied to the stock's history.
    Staff apply it as a split from the admin when it is right, or delete it."""

    stock = models.ForeignKey(Stock, on_delete=models.CASCADE, related_name="held_adj_factors")
    date = models.DateField(_("date"))
    factor = models.FloatField(_("AdjFactor"))
    source = models.CharField(_("source"), max_length=50)
    scrape_run = models.ForeignKey(
        ScrapeRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="held_factors"
    )
    held_at = models.DateTimeField(_("held"), auto_now_add=True)

    class Meta:
        verbose_name = _("held split factor")
        verbose_name_plural = _("held split factors")
        ordering = ["-held_at"]
        constraints = [
            models.UniqueConstraint(fields=["stock", "date"], name="heldadjfactor_unique_day"),
        ]

    def __str__(self) -> str:
        return f"{self.stock_id} {self.date} AdjFactor {self.factor:g}"


class MarketIndex(models.Model):
    """A market index such as TOPIX: the market that matches are compared with."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("market index")
        verbose_name_plural = _("market indices")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class IndexBar(models.Model):
    """One trading day of a market index."""

    index = models.ForeignKey(MarketIndex, on_delete=models.CASCADE, related_name="bars")
    date = models.DateField(_("date"))
    open = models.FloatField(_("open"))
    high = models.FloatField(_("high"))
    low = models.FloatField(_("low"))
    close = models.FloatField(_("close"))

    class Meta:
        verbose_name = _("index bar")
        verbose_name_plural = _("index bars")
        ordering = ["index", "date"]
        constraints = [
            models.UniqueConstraint(fields=["index", "date"], name="indexbar_unique_index_date"),
        ]

    def __str__(self) -> str:
        return f"{self.index_id} {self.date}"
