"""The API's output serializers and the result builder's TypedDicts describe one shape."""

import pytest

from similarity.api import serializers
from similarity.results import schema as results

SAVED_SEARCH_FIELDS = {"id", "created_at", "label", "source", "mode", "spec", "options", "rerun_of"}


@pytest.mark.parametrize(
    ("serializer", "schema"),
    [
        (serializers.PatternSerializer, results.PatternInfo),
        (serializers.MatchSerializer, results.MatchResult),
        (serializers.HorizonStatsSerializer, results.HorizonStats),
        (serializers.FanSerializer, results.FanChart),
        (serializers.GroupSerializer, results.ScenarioGroup),
        (serializers.LimitSerializer, results.LimitApplied),
        (serializers.SnapshotSerializer, results.SnapshotInfo),
    ],
)
def test_each_output_serializer_has_the_fields_of_its_part_of_the_result(serializer, schema):
    fields = serializer().fields

    assert set(fields) == set(schema.__annotations__)
    optional = {name for name, field in fields.items() if not field.required}
    assert optional == set(schema.__optional_keys__)


def test_the_saved_search_serializer_is_the_result_and_the_search_around_it():
    fields = set(serializers.SavedSearchSerializer().fields)

    assert fields == set(results.SearchResult.__annotations__) | SAVED_SEARCH_FIELDS
