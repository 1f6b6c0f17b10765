"""API shapes of a search: the request, and the saved search with its result.

The input serializer parses JSON into a pattern spec and options and hands them to
`similarity.validation`, the one validator. The output serializers describe SavedSearch.result as
`similarity.results.builder` builds it.
"""

import typing

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.errors import DomainError
from core.representation import representer
from core.text import interpolate_lazy
from market.models import ChartInterval
from similarity import limits
from similarity.engine import (
    INTERVAL_LEVEL,
    MIN_VERDICT_EPISODES,
    VERDICT_ALPHA,
    VERDICTS,
)
from similarity.models import SavedSearch
from similarity.results.glossary import term_help
from similarity.results.schema import LimitApplied
from similarity.results.statistics import MIN_EPISODES, WEAK_CORRELATION
from similarity.validation import (
    OPTION_FIELDS,
    PATTERN_FIELDS,
    pattern_spec_clean,
    search_options_clean,
)

DEFAULT_INTERVAL = limits.DEFAULT_INTERVAL
INTERVAL_CHOICES = ChartInterval.choices


class SearchInputSerializer(serializers.Serializer):
    """One pattern (a stock and a date range, a list of prices, or a sketch) and options."""

    code = serializers.CharField(
        required=False, max_length=8, help_text=_("Stock code, with from and to.")
    )
    prices = serializers.ListField(
        child=serializers.FloatField(),
        required=False,
        min_length=limits.MIN_LENGTH,
        max_length=limits.MAX_LENGTH,
        help_text=interpolate_lazy(
            _("The pattern as prices, oldest first (%(min)d to %(max)d)."),
            {"min": limits.MIN_LENGTH, "max": limits.MAX_LENGTH},
        ),
    )
    points = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        required=False,
        max_length=limits.MAX_SKETCH_POINTS,
        help_text=_("A sketch: [x, y] pairs, y up; resampled to `days` prices."),
    )
    days = serializers.IntegerField(
        required=False,
        min_value=limits.MIN_LENGTH,
        max_value=limits.MAX_LENGTH,
        help_text=_("Length of a sketched pattern in trading days."),
    )
    mode = serializers.ChoiceField(
        choices=SavedSearch.Mode.choices,
        required=False,
        help_text=_("history: every window of every stock; latest: how stocks look now."),
    )
    interval = serializers.ChoiceField(
        choices=INTERVAL_CHOICES,
        required=False,
        help_text=_(
            "The closes searched: day (default), week or month, each week's (Monday to Sunday) "
            "or calendar month's last trading day. The pattern's range selects the weeks or "
            "months whose last trading day falls inside; prices, sketch days and horizons count "
            "bars of the interval (default horizons: day 5, 20, 60; week 4, 13, 26; month 3, "
            "6, 12)."
        ),
    )
    k = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=limits.MAX_K,
        help_text=interpolate_lazy(
            _("Matches asked for (default %(k)d); capped by the plan."),
            {"k": limits.DEFAULT_K},
        ),
    )
    horizons = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=limits.MAX_HORIZON),
        required=False,
        min_length=1,
        max_length=limits.MAX_HORIZONS,
        help_text=interpolate_lazy(
            _(
                "Bars of the interval after a match to measure (trading days by default: "
                "%(days)s; at most %(day)d days, %(week)d weeks, %(month)d months)."
            ),
            {
                "days": ", ".join(map(str, limits.DEFAULT_HORIZONS)),
                **limits.MAX_HORIZON_BY_INTERVAL,
            },
        ),
    )
    segment = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=limits.MAX_NAME_LENGTH,
        help_text=_("Market segment."),
    )
    sector = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=limits.MAX_NAME_LENGTH,
        help_text=_("33-sector code or name."),
    )
    min_turnover = serializers.FloatField(
        required=False, min_value=0, help_text=_("Minimum average daily turnover in yen.")
    )
    date_from = serializers.DateField(
        required=False, allow_null=True, help_text=_("Windows starting on or after this date.")
    )
    date_to = serializers.DateField(
        required=False, allow_null=True, help_text=_("Windows ending on or before this date.")
    )
    stretch = serializers.BooleanField(
        required=False,
        help_text=interpolate_lazy(
            _("Also search the pattern %(min)s to %(max)s times as long."),
            {"min": limits.STRETCH_MIN, "max": limits.STRETCH_MAX},
        ),
    )
    same_period = serializers.BooleanField(
        required=False,
        help_text=_(
            "History mode with a stock's range: also list, apart from the matches, the closest "
            "windows of other stocks over the pattern's own days (same_period in the result)."
        ),
    )

    as_of = serializers.BooleanField(
        required=False,
        help_text=_(
            "History mode with a stock's range: only windows whose furthest horizon closed "
            "before the pattern's first day, and the base rate over the same windows (a "
            "replay of what was known then). Without it, later history is included."
        ),
    )

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword, so these two cannot be class attributes.
        fields["from"] = serializers.DateField(
            required=False, help_text=_("First day of the stock's range.")
        )
        fields["to"] = serializers.DateField(
            required=False, help_text=_("Last day of the stock's range.")
        )
        return fields

    def validate(self, attrs):
        if isinstance(self.initial_data, dict):
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        given = [source for source, keys in PATTERN_FIELDS.items() if any(k in attrs for k in keys)]
        if len(given) != 1:
            message = _("Give one pattern: code with from and to, prices, or points with days.")
            names = [k for source in given for k in PATTERN_FIELDS[source] if k in attrs]
            raise serializers.ValidationError(
                {name: [message] for name in names} or {"non_field_errors": [message]}
            )
        source = given[0]
        spec = {"source": source, **{key: attrs.get(key) for key in PATTERN_FIELDS[source]}}
        try:
            attrs["spec"] = pattern_spec_clean(spec=spec)
            attrs["options"] = search_options_clean(
                options={key: attrs[key] for key in OPTION_FIELDS if key in attrs}
            )
        except DomainError as error:
            raise serializers.ValidationError(error.field_messages()) from error
        return attrs

    def spec_and_options(self) -> tuple[dict, dict]:
        """The pattern spec and the options, checked by the validator."""
        return self.validated_data["spec"], self.validated_data["options"]


# --- Output: the API answers through these; drf-spectacular documents them ------------------------


class NumberListField(serializers.ListField):
    """A list of numbers as stored: already plain floats (or ints), so passed through as they are.

    A result holds thousands of them; converting each through a child field would cost more than
    the search's own bookkeeping.
    """

    def to_representation(self, data):
        return data


class PatternSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=SavedSearch.Source.choices)
    length = serializers.IntegerField()
    values = NumberListField(child=serializers.FloatField())
    normalized = NumberListField(child=serializers.FloatField())
    code = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    start_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)


class MatchSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    segment = serializers.CharField(allow_blank=True)
    sector = serializers.CharField(allow_blank=True)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    length = serializers.IntegerField()
    correlation = serializers.FloatField(help_text=term_help("similarity"))
    distance = serializers.FloatField()
    returns = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        help_text=_("Return after each horizon (key: days), null past the end of the data."),
    )
    excess_returns = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        required=False,
        help_text=term_help(
            "versus_market",
            _("History mode: the return minus the market's (market_benchmark) over the same days."),
        ),
    )
    excess_benchmark = serializers.ChoiceField(
        choices=["TOPIX", "equal_weighted"],
        allow_null=True,
        required=False,
        help_text=_(
            "History mode: the market this match's excess_returns were measured against: TOPIX "
            "where its stored levels cover the days, else the equal-weighted market; null when "
            "none could be measured."
        ),
    )
    episode = serializers.IntegerField(
        required=False,
        help_text=term_help(
            "episode",
            _(
                "History mode: matches sharing an episode overlap in time (or are an ETF and its "
                "leveraged or inverse twin) and count once."
            ),
        ),
    )
    stopped_trading = serializers.DateField(
        required=False,
        help_text=_(
            "History mode: the stock's last trading day, when it stopped trading before a "
            "horizon and that return was booked at its last close."
        ),
    )
    booked = NumberListField(
        child=serializers.IntegerField(),
        required=False,
        help_text=_("The horizons whose return was booked at that last close."),
    )
    window = NumberListField(child=serializers.FloatField())
    after = NumberListField(child=serializers.FloatField())
    last_close = serializers.FloatField()
    latest_close = serializers.FloatField(required=False, help_text=_("Latest mode only."))
    latest_date = serializers.DateField(required=False, help_text=_("Latest mode only."))


class DistributionSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    median = serializers.FloatField(allow_null=True)
    q25 = serializers.FloatField(allow_null=True)
    q75 = serializers.FloatField(allow_null=True)
    share_positive = serializers.FloatField(allow_null=True)


class BaselineSerializer(DistributionSerializer):
    p10 = serializers.FloatField(allow_null=True, help_text=_("10th percentile of the base rate."))
    p90 = serializers.FloatField(allow_null=True, help_text=_("90th percentile of the base rate."))
    excess_median = serializers.FloatField(
        allow_null=True,
        required=False,
        help_text=_(
            "The median excess return (minus the market's over the same days) of every window "
            "that could have been a match: what the verdict compares the episodes' with."
        ),
    )


class IntervalSerializer(serializers.Serializer):
    median = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        min_length=2,
        max_length=2,
        help_text=interpolate_lazy(
            _("%(level)d%% bootstrap interval [lo, hi] of the median (episodes counted once)."),
            {"level": round(INTERVAL_LEVEL * 100)},
        ),
    )
    share_positive = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        min_length=2,
        max_length=2,
        help_text=interpolate_lazy(
            _("%(level)d%% bootstrap interval [lo, hi] of the share positive."),
            {"level": round(INTERVAL_LEVEL * 100)},
        ),
    )
    range = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        required=False,
        min_length=2,
        max_length=2,
        help_text=interpolate_lazy(
            _(
                "[min, max] of the episodes' returns when there are fewer than %(episodes)d "
                "(too few for a bootstrap interval, which is then null)."
            ),
            {"episodes": MIN_EPISODES},
        ),
    )


class ForecastSerializer(serializers.Serializer):
    """A forecast, not a description of the matches: calibrated walk-forward."""

    p10 = serializers.FloatField(help_text=_("10th percentile of the forecast return."))
    p25 = serializers.FloatField(help_text=_("25th percentile of the forecast return."))
    p50 = serializers.FloatField(help_text=_("Median forecast return."))
    p75 = serializers.FloatField(help_text=_("75th percentile of the forecast return."))
    p90 = serializers.FloatField(help_text=_("90th percentile of the forecast return."))
    matches_weight = serializers.FloatField(
        help_text=_(
            "0 to 1: how far the forecast moved from the base rate toward the matches' "
            "episodes, as learned walk-forward (0 where they added nothing)."
        )
    )


class ForecastModelSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text=_("The forecast model applied."))
    data_date = serializers.DateField(
        allow_null=True, help_text=_("Last trading day of the data it was learned on.")
    )
    demo = serializers.BooleanField(help_text=_("Learned from the demo market's smaller sample."))


class HorizonStatsSerializer(DistributionSerializer):
    horizon = serializers.IntegerField()
    count = serializers.IntegerField(
        help_text=term_help(
            "episode",
            _("Independent episodes with a return (overlapping matches count once)."),
        )
    )
    matches = serializers.IntegerField(
        required=False,
        help_text=term_help("match", _("Matches with a return at this horizon.")),
    )
    baseline = BaselineSerializer(
        required=False,
        help_text=term_help(
            "base_rate",
            _(
                "Base rate: the returns after every window that could have been a match (same "
                "filters and dates, the pattern's own days and flat windows left out)."
            ),
        ),
    )
    excess = DistributionSerializer(
        required=False,
        help_text=term_help(
            "versus_market",
            _("The same statistics of the returns minus the market's over the same days."),
        ),
    )
    interval = IntervalSerializer(required=False, help_text=term_help("interval"))
    verdict = serializers.ChoiceField(
        choices=list(VERDICTS),
        required=False,
        help_text=term_help(
            "verdict",
            interpolate_lazy(
                _(
                    "above/below: the episodes' excess returns (minus the market's) lie "
                    "above/below the base rate's median excess (sign test, Holm-corrected over "
                    "the horizons at %(alpha)s); indistinguishable: no such difference; "
                    "insufficient: fewer than "
                    "%(episodes)d episodes to judge."
                ),
                {"alpha": VERDICT_ALPHA, "episodes": MIN_VERDICT_EPISODES},
            ),
        ),
    )
    booked = serializers.IntegerField(
        required=False,
        help_text=_(
            "Matches whose stock stopped trading before this horizon, booked at its last close."
        ),
    )
    forecast = ForecastSerializer(
        allow_null=True,
        required=False,
        help_text=term_help(
            "forecast",
            _(
                "The calibrated forecast range: the base rate scaled to the pattern's own "
                "volatility, moved toward the matches by a weight learned walk-forward, widened "
                "so that 10-90 holds four outcomes in five and 25-75 half. Null before the first "
                "calibration. The other figures here describe what happened to these matches."
            ),
        ),
    )


class FanSerializer(serializers.Serializer):
    horizon = serializers.IntegerField()
    days = NumberListField(child=serializers.IntegerField())
    count = serializers.IntegerField()
    bands = serializers.DictField(child=NumberListField(child=serializers.FloatField()))


class GroupSerializer(serializers.Serializer):
    label = serializers.CharField()
    share = serializers.FloatField()
    count = serializers.IntegerField()
    median_path = NumberListField(child=serializers.FloatField())
    median_return = serializers.FloatField()
    ranks = NumberListField(child=serializers.IntegerField())


class LimitSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=typing.get_args(LimitApplied.__annotations__["code"]))
    message = serializers.CharField(help_text=_("In the language the search was run in."))
    params = serializers.DictField(
        required=False,
        help_text=_("The numbers in the message (max, days, years, date, plan), by name."),
    )


class SnapshotSerializer(serializers.Serializer):
    id = serializers.CharField()
    date = serializers.DateField(allow_null=True)


class SavedSearchSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = SavedSearch
        fields = (
            "id",
            "created_at",
            "label",
            "source",
            "mode",
            "spec",
            "options",
            "match_count",
            "elapsed_ms",
            "snapshot_date",
        )


class SavedSearchSerializer(serializers.Serializer):
    """A saved search with its whole result (SavedSearch.result, see similarity.results)."""

    _represent = None

    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    label = serializers.CharField(allow_blank=True)
    source = serializers.ChoiceField(choices=SavedSearch.Source.choices)
    mode = serializers.ChoiceField(choices=SavedSearch.Mode.choices)
    spec = serializers.DictField()
    options = serializers.DictField()
    rerun_of = serializers.UUIDField(allow_null=True)
    pattern = PatternSerializer()
    horizons = NumberListField(child=serializers.IntegerField())
    matches = MatchSerializer(many=True)
    stats = HorizonStatsSerializer(many=True)
    fan = FanSerializer(allow_null=True)
    groups = GroupSerializer(many=True)
    groups_horizon = serializers.IntegerField(allow_null=True)
    limits = LimitSerializer(many=True)
    market_benchmark = serializers.ChoiceField(
        choices=["TOPIX", "equal_weighted", "mixed"],
        allow_null=True,
        required=False,
        help_text=_(
            "The market of excess_returns: TOPIX where stored, else the equal-weighted mean of "
            "every stock; mixed when some matches were measured against each (see each match's "
            "excess_benchmark). Null in latest mode."
        ),
    )
    warnings = serializers.ListField(
        child=serializers.ChoiceField(choices=["few_matches", "weak_matches"]),
        required=False,
        help_text=interpolate_lazy(
            _(
                "few_matches: fewer than %(episodes)d independent episodes; weak_matches: median "
                "correlation below %(r)s."
            ),
            {"episodes": MIN_EPISODES, "r": WEAK_CORRELATION},
        ),
    )
    same_period = MatchSerializer(
        many=True,
        required=False,
        help_text=_(
            "Present when the same_period option was given: windows overlapping the pattern's own "
            "days, for context, ranked apart and never counted in stats, fan, groups or warnings "
            "(no episode or excess_returns); empty unless history mode with a stock's range."
        ),
    )
    forecast_model = ForecastModelSerializer(
        allow_null=True,
        required=False,
        help_text=_("History mode: the forecast model applied (null: none learned yet)."),
    )
    snapshot = SnapshotSerializer()
    elapsed_ms = serializers.FloatField()
    interval = serializers.ChoiceField(
        choices=INTERVAL_CHOICES,
        help_text=_(
            "The closes searched (day, week or month): horizons count its bars and each match's "
            "dates are those of its first and last bar, a week's or month's last trading day."
        ),
    )

    def to_representation(self, instance: SavedSearch) -> dict:
        # DRF's output, from fields compiled once per serializer (core.representation): a
        # result's thousands of values cost some 3 ms of CPU through DRF's field methods.
        if self._represent is None:
            self._represent = representer(self)
        return self._represent(
            {
                "id": instance.pk,
                "created_at": instance.created_at,
                "label": instance.label,
                "source": instance.source,
                "mode": instance.mode,
                "spec": instance.spec,
                "options": instance.options,
                "rerun_of": instance.rerun_of_id,
                "interval": (instance.options or {}).get("interval", DEFAULT_INTERVAL),
                **instance.result,
            }
        )
