"""The search page's form: it parses what a person typed, drew or ticked, then hands the pattern
and the options to `similarity.validation`, the one validator, whose messages land on the fields."""

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.forms import DomainErrorFormMixin
from core.text import interpolate_lazy
from market.exchanges.tse.sectors import sector_label, segment_label
from market.models import ChartInterval
from market.selectors import stock_by_code_or_name, stock_suggestions
from similarity import limits
from similarity.models import SavedSearch
from similarity.validation import (
    SearchInputError,
    pattern_spec_clean,
    prices_text_parse,
    search_options_clean,
    sketch_points_parse,
)

# Where the search service names a field of the spec or options, the form field that holds it.
SERVICE_FIELD_TO_FORM_FIELD = {
    "source": "source",
    "code": "code",
    "from": "date_from",
    "to": "date_to",
    "prices": "prices",
    "points": "sketch",
    "days": "days",
    "mode": "mode",
    "k": "k",
    "horizons": "horizons",
    "segment": "segment",
    "sector": "sector",
    "min_turnover": "min_turnover",
    "date_from": "search_from",
    "date_to": "search_to",
    "stretch": "stretch",
    "same_period": "same_period",
    "as_of": "as_of",
    "interval": "interval",
}

# The chart's timeframe, as Japanese brokers name it: 日足, 週足, 月足.
INTERVAL_CHOICES = ChartInterval.choices
# The horizons field of each interval (the choices differ: days, weeks, months).
HORIZON_FIELDS = {"day": "horizons", "week": "horizons_week", "month": "horizons_month"}


class SearchForm(DomainErrorFormMixin, forms.Form):
    domain_error_fields = SERVICE_FIELD_TO_FORM_FIELD

    source = forms.ChoiceField(
        label=_("Pattern from"),
        choices=SavedSearch.Source.choices,
        initial=SavedSearch.Source.STOCK,
        widget=forms.RadioSelect,
    )
    code = forms.CharField(
        label=_("Stock (code or name)"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "placeholder": _("7974 or 任天堂"),
                "autocomplete": "off",
                "class": "stock-complete",
                "data-suggest-url": reverse_lazy("stock_suggest"),
            }
        ),
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    prices = forms.CharField(
        label=_("Prices, oldest first"),
        required=False,
        max_length=limits.MAX_PRICES_TEXT,
        help_text=interpolate_lazy(
            _(
                "%(min)d to %(max)d prices, one a line or separated by spaces or commas "
                "(1,520 ¥1,495 1510円 all work), or rows copied from Excel or a broker's table "
                "(the close column is used)."
            ),
            {"min": limits.MIN_LENGTH, "max": limits.MAX_LENGTH},
        ),
        widget=forms.Textarea(
            attrs={"rows": 5, "placeholder": "1,520\n1,534\n1,529\n1,551\n1,580 …"}
        ),
    )
    sketch = forms.CharField(
        required=False, max_length=limits.MAX_SKETCH_TEXT, widget=forms.HiddenInput
    )
    days = forms.IntegerField(
        label=_("Days the sketch stands for"),
        required=False,
        min_value=limits.MIN_LENGTH,
        max_value=limits.MAX_LENGTH,
        initial=limits.DEFAULT_SKETCH_DAYS,
    )
    mode = forms.ChoiceField(
        label=_("Look for"),
        required=False,
        choices=[
            (SavedSearch.Mode.HISTORY, _("When charts looked like this, and what came next")),
            (SavedSearch.Mode.LATEST, _("Stocks that look like this now")),
        ],
        initial=SavedSearch.Mode.HISTORY,
        widget=forms.RadioSelect,
    )
    interval = forms.ChoiceField(
        label=_("Chart"),
        required=False,
        choices=INTERVAL_CHOICES,
        initial=limits.DEFAULT_INTERVAL,
        widget=forms.RadioSelect,
        help_text=_(
            "Weekly and monthly charts use the close of each week's or month's last trading day; "
            "a stock's dates take the weeks or months that end inside them, and pasted prices, "
            "sketch days and horizons count weeks or months."
        ),
    )
    k = forms.IntegerField(
        label=_("Number of matches"),
        required=False,
        min_value=1,
        max_value=limits.MAX_K,
        initial=limits.DEFAULT_K,
    )
    horizons = forms.MultipleChoiceField(
        label=_("Days after the match to measure"),
        choices=[(str(days), str(days)) for days in limits.HORIZON_CHOICES],
        required=False,
        initial=[str(days) for days in limits.DEFAULT_HORIZONS],
        widget=forms.CheckboxSelectMultiple,
    )
    horizons_week = forms.MultipleChoiceField(
        label=_("Weeks after the match to measure"),
        choices=[(str(n), str(n)) for n in limits.HORIZON_CHOICES_BY_INTERVAL["week"]],
        required=False,
        initial=[str(n) for n in limits.DEFAULT_HORIZONS_BY_INTERVAL["week"]],
        widget=forms.CheckboxSelectMultiple,
    )
    horizons_month = forms.MultipleChoiceField(
        label=_("Months after the match to measure"),
        choices=[(str(n), str(n)) for n in limits.HORIZON_CHOICES_BY_INTERVAL["month"]],
        required=False,
        initial=[str(n) for n in limits.DEFAULT_HORIZONS_BY_INTERVAL["month"]],
        widget=forms.CheckboxSelectMultiple,
    )
    segment = forms.ChoiceField(label=_("Market segment"), required=False)
    sector = forms.ChoiceField(label=_("Sector"), required=False)
    min_turnover = forms.DecimalField(
        label=_("Min. daily turnover (¥ million)"),
        required=False,
        min_value=0,
        max_value=10_000_000,
        decimal_places=2,
        help_text=_("Close × volume, averaged; empty: none."),
    )
    search_from = forms.DateField(
        label=_("Search windows from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    search_to = forms.DateField(
        label=_("Search windows up to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    stretch = forms.BooleanField(
        label=interpolate_lazy(
            _("Also match the shape stretched or squeezed in time (%(min)s× to %(max)s×)"),
            {"min": limits.STRETCH_MIN, "max": limits.STRETCH_MAX},
        ),
        required=False,
    )
    same_period = forms.BooleanField(
        label=_("Also show other stocks over the same period (context, not counted)"),
        help_text=_("History mode with a stock's date range: its days in every other stock."),
        required=False,
    )

    as_of = forms.BooleanField(
        label=_("Only the data known at the time"),
        help_text=_(
            "History mode with a stock's date range: only windows whose outcomes were known "
            "before the pattern began, to replay a past pattern as it could have been seen."
        ),
        required=False,
    )

    def __init__(self, *args, segments: list[str], sectors: list[tuple[str, str]], **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [("", _("All segments"))] + [
            (segment, segment_label(segment)) for segment in segments
        ]
        self.fields["sector"].choices = [("", _("All sectors"))] + [
            (code, sector_label(code, name)) for code, name in sectors
        ]

    def clean_code(self) -> str:
        """A code as typed, or the code of the one listed stock whose name was typed."""
        text = self.cleaned_data["code"].strip()
        if not text:
            return text
        stock = stock_by_code_or_name(text=text)
        if stock is not None:
            return stock.code
        candidates = stock_suggestions(query=text, limit=5)
        if len(candidates) > 1:
            raise forms.ValidationError(
                gettext("Several stocks match “%(text)s” (%(stocks)s): choose one by its code.")
                % {
                    "text": text,
                    "stocks": gettext(", ").join(f"{s.code} {s.display_name}" for s in candidates),
                },
                code="ambiguous",
            )
        return text

    def clean_prices(self) -> list[float]:
        try:
            return prices_text_parse(self.cleaned_data["prices"]).prices
        except SearchInputError as error:
            raise forms.ValidationError(error.fields["prices"][0], code="invalid") from None

    def clean_sketch(self) -> list[list[float]]:
        text = self.cleaned_data["sketch"].strip()
        if not text:
            return []
        try:
            return sketch_points_parse(text=text)
        except SearchInputError as error:
            raise forms.ValidationError(error.message, code="invalid") from None

    def clean(self):
        data = super().clean()
        if self.errors:  # a field could not be read; its message says why
            return data
        try:
            self._spec = pattern_spec_clean(spec=self._spec_given(data))
            self._options = search_options_clean(options=self._options_given(data))
        except DomainError as error:
            self.add_domain_error(error)
        return data

    @staticmethod
    def _spec_given(data: dict) -> dict:
        source = data["source"]
        if source == SavedSearch.Source.STOCK:
            start, end = data.get("date_from"), data.get("date_to")
            return {
                "source": source,
                "code": data.get("code") or "",
                "from": start.isoformat() if start else None,
                "to": end.isoformat() if end else None,
            }
        if source == SavedSearch.Source.PRICES:
            return {"source": source, "prices": data.get("prices") or []}
        return {"source": source, "points": data.get("sketch") or [], "days": data.get("days")}

    @staticmethod
    def _options_given(data: dict) -> dict:
        # The stock page's short form posts only the pattern and the mode: the rest takes defaults.
        turnover = data.get("min_turnover")
        search_from, search_to = data.get("search_from"), data.get("search_to")
        interval = data.get("interval") or limits.DEFAULT_INTERVAL
        horizons = data.get(HORIZON_FIELDS.get(interval, "horizons")) or []
        given = {
            "interval": interval,
            "mode": data.get("mode") or None,
            "k": data.get("k"),
            "horizons": [int(bars) for bars in horizons] or None,
            "segment": data.get("segment") or "",
            "sector": data.get("sector") or "",
            "min_turnover": float(turnover) * 1_000_000 if turnover else 0.0,
            "date_from": search_from.isoformat() if search_from else None,
            "date_to": search_to.isoformat() if search_to else None,
            "stretch": bool(data.get("stretch")),
            "same_period": bool(data.get("same_period")),
            "as_of": bool(data.get("as_of")),
        }
        return {key: value for key, value in given.items() if value is not None}

    def spec(self) -> dict:
        """The pattern, checked by the validator (after is_valid())."""
        return self._spec

    def options(self) -> dict:
        """The options with every key present, checked by the validator (after is_valid())."""
        return self._options
