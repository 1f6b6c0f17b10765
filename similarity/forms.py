import json
import math
import re
import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from similarity.models import SavedSearch

MIN_DAYS = 5
MAX_DAYS = 500
HORIZON_CHOICES = [(str(days), str(days)) for days in (5, 10, 20, 60, 120, 250)]
DEFAULT_HORIZONS = ["5", "20", "60"]
MAX_SKETCH_POINTS = 5000
# Commas (ASCII, full-width and ideographic), semicolons and any whitespace separate prices.
PRICE_SEPARATORS = re.compile(r"[,;、，\s]+")

# Where the search service names a field of the spec or options, the form field that holds it.
SERVICE_FIELD_TO_FORM_FIELD = {
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
}


def parse_prices(text: str) -> list[float]:
    """Numbers separated by commas, spaces or new lines (full-width digits folded)."""
    tokens = [t for t in PRICE_SEPARATORS.split(unicodedata.normalize("NFKC", text)) if t]
    prices = []
    for position, token in enumerate(tokens, start=1):
        try:
            value = float(token.replace("_", ""))
        except ValueError:
            raise forms.ValidationError(
                _("Price %(position)s, “%(token)s”, is not a number."),
                code="not_a_number",
                params={"position": position, "token": token[:20]},
            ) from None
        if not math.isfinite(value):
            raise forms.ValidationError(
                _("Price %(position)s is not a finite number."),
                code="not_finite",
                params={"position": position},
            )
        prices.append(value)
    return prices


class SearchForm(forms.Form):
    source = forms.ChoiceField(
        label=_("Pattern from"),
        choices=SavedSearch.Source.choices,
        initial=SavedSearch.Source.STOCK,
        widget=forms.RadioSelect,
    )
    code = forms.CharField(
        label=_("Stock code"),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"placeholder": "7974", "autocomplete": "off"}),
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
        max_length=20000,
        help_text=_("5 to 500 numbers separated by commas, spaces or new lines."),
        widget=forms.Textarea(
            attrs={"rows": 5, "placeholder": "1520, 1534, 1529, 1551, 1580, 1572, 1601 …"}
        ),
    )
    sketch = forms.CharField(required=False, max_length=200000, widget=forms.HiddenInput)
    days = forms.IntegerField(
        label=_("Days the sketch stands for"),
        required=False,
        min_value=MIN_DAYS,
        max_value=MAX_DAYS,
        initial=60,
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
    k = forms.IntegerField(
        label=_("Number of matches"), required=False, min_value=1, max_value=100, initial=10
    )
    horizons = forms.MultipleChoiceField(
        label=_("Days after the match to measure"),
        choices=HORIZON_CHOICES,
        required=False,
        initial=DEFAULT_HORIZONS,
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
        label=_("Also match the shape stretched or squeezed in time (0.8× to 1.25×)"),
        required=False,
    )

    def __init__(self, *args, segments: list[str], sectors: list[tuple[str, str]], **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [("", _("All segments"))] + [(s, s) for s in segments]
        self.fields["sector"].choices = [("", _("All sectors"))] + sectors

    def clean_code(self) -> str:
        return unicodedata.normalize("NFKC", self.cleaned_data["code"]).strip().upper()

    def clean_prices(self) -> list[float]:
        return parse_prices(self.cleaned_data["prices"])

    def clean_sketch(self) -> list[list[float]]:
        text = self.cleaned_data["sketch"].strip()
        if not text:
            return []
        try:
            points = json.loads(text)
            points = [[float(x), float(y)] for x, y in points]
        except (ValueError, TypeError):
            raise forms.ValidationError(
                _("The sketch could not be read: clear it and draw again."), code="invalid"
            ) from None
        if len(points) > MAX_SKETCH_POINTS or not all(map(math.isfinite, sum(points, []))):
            raise forms.ValidationError(
                _("The sketch could not be read: clear it and draw again."), code="invalid"
            )
        return points

    # The stock page's short form posts only the pattern and the mode: the rest takes defaults.
    def clean_mode(self) -> str:
        return self.cleaned_data["mode"] or SavedSearch.Mode.HISTORY

    def clean_k(self) -> int:
        return self.cleaned_data["k"] or self.fields["k"].initial

    def clean_horizons(self) -> list[int]:
        return sorted({int(days) for days in self.cleaned_data["horizons"] or DEFAULT_HORIZONS})

    def clean(self):
        data = super().clean()
        source = data.get("source")
        if source == SavedSearch.Source.STOCK:
            self._clean_stock_range(data)
        elif source == SavedSearch.Source.PRICES:
            prices = data.get("prices")
            if prices is not None and "prices" not in self.errors:
                if len(prices) < MIN_DAYS or len(prices) > MAX_DAYS:
                    self.add_error(
                        "prices",
                        _("Give between 5 and 500 prices; you gave %(count)s.")
                        % {"count": len(prices)},
                    )
                elif max(prices) == min(prices):
                    self.add_error("prices", _("The prices are all the same: there is no shape."))
        elif source == SavedSearch.Source.SKETCH:
            if not data.get("sketch") and "sketch" not in self.errors:
                self.add_error("sketch", _("Draw a shape on the canvas first."))
            if data.get("days") is None and "days" not in self.errors:
                self.add_error("days", _("Say how many days the sketch stands for (5 to 500)."))
        search_from, search_to = data.get("search_from"), data.get("search_to")
        if search_from and search_to and search_from > search_to:
            self.add_error("search_to", _("“Search windows up to” is before “from”."))
        return data

    def _clean_stock_range(self, data: dict) -> None:
        if not data.get("code") and "code" not in self.errors:
            self.add_error("code", _("Enter a stock code such as 7203."))
        for name in ("date_from", "date_to"):
            if data.get(name) is None and name not in self.errors:
                self.add_error(name, _("Choose the first and last day of the pattern."))
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("“To” is before “From”."))

    def spec(self) -> dict:
        data = self.cleaned_data
        source = data["source"]
        if source == SavedSearch.Source.STOCK:
            return {
                "source": source,
                "code": data["code"],
                "from": data["date_from"].isoformat(),
                "to": data["date_to"].isoformat(),
            }
        if source == SavedSearch.Source.PRICES:
            return {"source": source, "prices": data["prices"]}
        return {"source": source, "points": data["sketch"], "days": data["days"]}

    def options(self) -> dict:
        data = self.cleaned_data
        turnover = data.get("min_turnover")
        return {
            "mode": data["mode"],
            "k": data["k"],
            "horizons": data["horizons"],
            "segment": data.get("segment") or "",
            "sector": data.get("sector") or "",
            "min_turnover": float(turnover) * 1_000_000 if turnover else 0.0,
            "date_from": data["search_from"].isoformat() if data.get("search_from") else None,
            "date_to": data["search_to"].isoformat() if data.get("search_to") else None,
            "stretch": bool(data.get("stretch")),
        }
