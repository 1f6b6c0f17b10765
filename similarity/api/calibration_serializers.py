"""API shapes of the calibration table and of a user's track record (the search's own shapes
are in `similarity.api.serializers`)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from similarity.models import CalibrationRun, SavedSearch, SearchGrade


class CalibrationRowSerializer(serializers.Serializer):
    length = serializers.IntegerField(help_text=_("Pattern length in trading days."))
    horizon = serializers.IntegerField(help_text=_("Trading days after the pattern."))
    count = serializers.IntegerField(help_text=_("Samples with at least 5 matches' outcomes."))
    inside_80 = serializers.FloatField(
        allow_null=True, help_text=_("Share of outcomes inside the 10-90 band (ideal 0.8).")
    )
    inside_50 = serializers.FloatField(
        allow_null=True, help_text=_("Share of outcomes inside the 25-75 band (ideal 0.5).")
    )
    sign_hit = serializers.FloatField(
        allow_null=True, help_text=_("Share whose sign the matches' median got right.")
    )
    base_sign_hit = serializers.FloatField(
        allow_null=True, help_text=_("Share whose sign the base rate's median got right.")
    )
    verdicts = serializers.IntegerField(help_text=_("Samples with a verdict above or below."))
    verdict_hit = serializers.FloatField(
        allow_null=True, help_text=_("Share of those whose outcome fell on the verdict's side.")
    )


class CalibrationRunSerializer(serializers.ModelSerializer):
    table = CalibrationRowSerializer(many=True)

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
            "table",
        )


class SearchGradeSerializer(serializers.ModelSerializer):
    class Meta:
        model = SearchGrade
        fields = (
            "horizon",
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
    horizon = serializers.IntegerField()
    count = serializers.IntegerField()
    inside_80 = serializers.FloatField()
    inside_50 = serializers.FloatField()
    mean_percentile = serializers.FloatField()


class TrackRecordSerializer(serializers.Serializer):
    summary = TrackRecordSummarySerializer(many=True)
    searches = TrackRecordSearchSerializer(many=True)
