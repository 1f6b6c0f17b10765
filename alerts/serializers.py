"""API shapes of an alert: the request (the search's pattern fields plus the alert's own) and
the answers."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from alerts.mail import hit_links
from alerts.models import THRESHOLD_DEFAULT, THRESHOLD_MAX, THRESHOLD_MIN, Alert, AlertHit
from similarity.api.serializers import SearchInputSerializer


class AlertInputSerializer(SearchInputSerializer):
    """One pattern, as a search takes it, and the alert's name, threshold and filters."""

    # Latest mode, one window per stock: the search's other options do not apply.
    mode = None
    k = None
    horizons = None
    date_from = None
    date_to = None
    stretch = None
    same_period = None
    as_of = None
    name = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text=_("Default: the pattern.")
    )
    threshold = serializers.FloatField(
        required=False,
        min_value=THRESHOLD_MIN,
        max_value=THRESHOLD_MAX,
        help_text=_("The lowest correlation that alerts (default %(default).2f).")
        % {"default": THRESHOLD_DEFAULT},
    )

    universe = serializers.ChoiceField(
        choices=Alert.Universe.choices,
        required=False,
        help_text=_(
            '"market" (default): every stock; "watchlist": only the stocks in your watchlist '
            "when the alert is checked."
        ),
    )

    def alert_fields(self) -> dict:
        spec, options = self.spec_and_options()
        data = self.validated_data
        return {
            "spec": spec,
            "name": data.get("name"),
            "threshold": data.get("threshold"),
            "segment": options.get("segment", ""),
            "sector": options.get("sector", ""),
            "min_turnover": options.get("min_turnover", 0),
            "universe": data.get("universe"),
        }


class AlertUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=200)
    threshold = serializers.FloatField(
        required=False, min_value=THRESHOLD_MIN, max_value=THRESHOLD_MAX
    )
    active = serializers.BooleanField(
        required=False, help_text=_("false pauses the alert, true resumes it.")
    )
    universe = serializers.ChoiceField(choices=Alert.Universe.choices, required=False)

    def validate(self, attrs):
        if isinstance(self.initial_data, dict):
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return attrs


class AlertSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_active")
    length = serializers.IntegerField(help_text=_("Closes in the pattern."))

    class Meta:
        model = Alert
        fields = (
            "id",
            "name",
            "source",
            "spec",
            "pattern",
            "length",
            "threshold",
            "segment",
            "sector",
            "min_turnover",
            "universe",
            "active",
            "status",
            "paused_by",
            "created_at",
            "last_checked_at",
            "last_checked_date",
        )
        read_only_fields = fields


class AlertHitSerializer(serializers.ModelSerializer):
    chart_url = serializers.SerializerMethodField()
    search_url = serializers.SerializerMethodField()

    class Meta:
        model = AlertHit
        fields = (
            "data_date",
            "code",
            "name",
            "correlation",
            "start_date",
            "end_date",
            "last_close",
            "chart_url",
            "search_url",
        )
        read_only_fields = fields

    def get_chart_url(self, hit) -> str:
        return hit_links(hit)["chart"]

    def get_search_url(self, hit) -> str:
        return hit_links(hit)["search"]
