"""API shapes of the calibration table and of a user's track record (the search's own shapes
are in `similarity.api.serializers`)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.text import interpolate_lazy
from market.models import ChartInterval
from similarity.engine import INTERVAL_LEVEL, MIN_SKILL_PATTERNS
from similarity.models import CalibrationRun, SavedSearch, SearchGrade
from similarity.results.glossary import term_help
from similarity.results.texts import skill_sentence


def _interval(help_text) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        min_length=2,
        max_length=2,
        help_text=help_text,
    )


QUARTER_INTERVAL = interpolate_lazy(
    _(
        "%(level)d%% interval [lo, hi] from a bootstrap that resamples calendar quarters "
        "(patterns of one quarter share its market)."
    ),
    {"level": round(INTERVAL_LEVEL * 100)},
)


class CalibrationCellSerializer(serializers.Serializer):
    length = serializers.IntegerField(
        allow_null=True, help_text=_("Pattern length in trading days (null: every length).")
    )
    horizon = serializers.IntegerField(help_text=_("Trading days after the pattern."))
    third = serializers.IntegerField(
        allow_null=True,
        help_text=_(
            "Volatility third of the pattern's stock (0 low, 1 middle, 2 high; null: all)."
        ),
    )
    count = serializers.IntegerField(help_text=_("Patterns."))
    inside_80 = serializers.FloatField(
        allow_null=True, help_text=_("Share of outcomes inside the forecast's 10-90 range (0.8).")
    )
    inside_80_interval = _interval(QUARTER_INTERVAL)
    inside_50 = serializers.FloatField(
        allow_null=True, help_text=_("Share of outcomes inside the forecast's 25-75 range (0.5).")
    )
    inside_50_interval = _interval(QUARTER_INTERVAL)
    raw_inside_80 = serializers.FloatField(
        allow_null=True, help_text=_("The same for the matches' own 10-90 percentiles.")
    )
    raw_inside_80_interval = _interval(QUARTER_INTERVAL)
    raw_inside_50 = serializers.FloatField(
        allow_null=True, help_text=_("The same for the matches' own 25-75 percentiles.")
    )
    raw_inside_50_interval = _interval(QUARTER_INTERVAL)
    raw_ideal_80 = serializers.FloatField(
        allow_null=True,
        help_text=_(
            "The most the matches' 10-90 percentiles of n draws can hold: 0.8 (n-1)/(n+1)."
        ),
    )
    raw_ideal_50 = serializers.FloatField(
        allow_null=True, help_text=_("The same for 25-75: 0.5 (n-1)/(n+1).")
    )
    crps_skill = serializers.FloatField(
        allow_null=True,
        help_text=_(
            "The forecast's CRPS skill against the plain base rate (1 - its CRPS / the base "
            "rate's; CRPS from the five quantiles); above 0 is better."
        ),
    )
    crps_skill_interval = _interval(QUARTER_INTERVAL)
    crps_skill_count = serializers.IntegerField()
    matches_crps_skill = serializers.FloatField(
        allow_null=True,
        help_text=_("The same for the matches' own quantiles (episodes counted once)."),
    )
    matches_crps_skill_interval = _interval(QUARTER_INTERVAL)
    matches_crps_skill_count = serializers.IntegerField()
    brier_skill = serializers.FloatField(
        allow_null=True,
        help_text=_("The forecast's Brier skill for a rise against the base rate's share."),
    )
    brier_skill_interval = _interval(QUARTER_INTERVAL)
    brier_skill_count = serializers.IntegerField()
    fired = serializers.FloatField(
        allow_null=True, help_text=_("Share of patterns given an above/below verdict.")
    )
    verdicts = serializers.IntegerField(help_text=_("Verdicts issued."))
    hit = serializers.FloatField(
        allow_null=True,
        help_text=term_help(
            "hit_rate",
            _(
                "Share of verdicts right: the stock's excess return fell on the verdict's side "
                "of the base rate's median excess."
            ),
        ),
    )
    hit_interval = _interval(QUARTER_INTERVAL)
    control_fired = serializers.FloatField(
        allow_null=True,
        help_text=_(
            "The same on the date-only control: each match replaced by a random stock that "
            "traded on its days."
        ),
    )
    control_verdicts = serializers.IntegerField()
    control_hit = serializers.FloatField(allow_null=True)
    control_hit_interval = _interval(QUARTER_INTERVAL)
    control_gap_median = serializers.FloatField(
        allow_null=True,
        help_text=_(
            "On the control: the median of (episodes' median excess - base rate's median "
            "excess); near 0 when the benchmark is fair."
        ),
    )
    booked = serializers.IntegerField(
        help_text=_("Matches booked at their stock's last close (it stopped trading).")
    )


class CalibrationHorizonSerializer(serializers.Serializer):
    horizon = serializers.IntegerField()
    count = serializers.IntegerField()
    crps_skill = serializers.FloatField(allow_null=True)
    crps_skill_interval = _interval(QUARTER_INTERVAL)
    crps_skill_count = serializers.IntegerField()
    matches_crps_skill = serializers.FloatField(allow_null=True)
    matches_crps_skill_interval = _interval(QUARTER_INTERVAL)
    matches_crps_skill_count = serializers.IntegerField()
    brier_skill = serializers.FloatField(allow_null=True)
    brier_skill_interval = _interval(QUARTER_INTERVAL)
    brier_skill_count = serializers.IntegerField()
    matches_beat_base = serializers.BooleanField(
        help_text=interpolate_lazy(
            _(
                "Whether the look-alikes may be said to beat the base rate: their CRPS skill's "
                "interval lies above 0 on %(patterns)d patterns or more."
            ),
            {"patterns": MIN_SKILL_PATTERNS},
        )
    )
    sentence = serializers.SerializerMethodField(
        help_text=_("That in one plain sentence, in the request's language.")
    )

    def get_sentence(self, summary: dict) -> str:
        return skill_sentence(summary)


class VerdictsAnySerializer(serializers.Serializer):
    patterns = serializers.IntegerField()
    fired = serializers.FloatField(
        allow_null=True, help_text=_("Share of patterns with a verdict on at least one horizon.")
    )
    control_fired = serializers.FloatField(
        allow_null=True, help_text=_("The same on the date-only control.")
    )


class CalibrationTableSerializer(serializers.Serializer):
    cells = CalibrationCellSerializer(
        many=True,
        help_text=_(
            "Per length x horizon x volatility third; a cell with third null holds every "
            "third, one with length null every length."
        ),
    )
    horizons = CalibrationHorizonSerializer(many=True)
    verdicts_any = VerdictsAnySerializer()


class CalibrationRunSerializer(serializers.ModelSerializer):
    table = CalibrationTableSerializer()
    forecast_version = serializers.IntegerField(
        source="forecast_model.pk", help_text=_("The forecast model learned by this run.")
    )
    demo = serializers.BooleanField(
        help_text=_("Computed on the demo market with a smaller sample: indicative only.")
    )

    class Meta:
        model = CalibrationRun
        fields = (
            "created_at",
            "snapshot_date",
            "samples",
            "lengths",
            "horizons",
            "k",
            "seed",
            "elapsed_seconds",
            "demo",
            "interval",
            "forecast_version",
            "table",
        )


class SearchGradeSerializer(serializers.ModelSerializer):
    class Meta:
        model = SearchGrade
        fields = (
            "horizon",
            "interval",
            "code",
            "base_date",
            "outcome_date",
            "realised_return",
            "percentile",
            "inside_80",
            "inside_50",
            "graded_at",
        )


class TrackRecordSearchSerializer(serializers.ModelSerializer):
    grades = SearchGradeSerializer(many=True)

    class Meta:
        model = SavedSearch
        fields = ("id", "created_at", "label", "grades")


class TrackRecordSummarySerializer(serializers.Serializer):
    horizon = serializers.IntegerField(help_text=_("Bars of the interval: days, weeks or months."))
    interval = serializers.ChoiceField(choices=ChartInterval.choices)
    count = serializers.IntegerField()
    inside_80 = serializers.FloatField()
    inside_50 = serializers.FloatField()
    mean_percentile = serializers.FloatField()


class TrackRecordSerializer(serializers.Serializer):
    summary = TrackRecordSummarySerializer(many=True)
    searches = TrackRecordSearchSerializer(many=True)
