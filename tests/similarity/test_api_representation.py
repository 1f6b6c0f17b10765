"""The API's saved-search output (core.representation's compiled fields) is DRF's to the value."""

import json
from functools import partial

import pytest
from rest_framework import serializers

from core.representation import representer
from similarity.api.serializers import SavedSearchSerializer
from similarity.models import SavedSearch
from similarity.services import search_run

NINTENDO_2015 = {"source": "stock", "code": "7974", "from": "2015-01-05", "to": "2015-04-30"}
PRICES = [100, 102, 101, 105, 110, 108, 112, 115, 113, 118, 117, 121]


def _drf(saved: SavedSearch) -> str:
    serializer = SavedSearchSerializer()
    serializer._represent = partial(serializers.Serializer.to_representation, serializer)
    return json.dumps(serializer.to_representation(saved))


@pytest.mark.parametrize(
    ("spec", "options"),
    [
        (NINTENDO_2015, {"k": 5, "same_period": True}),
        (NINTENDO_2015, {"k": 8, "as_of": True, "horizons": [5, 20]}),
        ({"source": "prices", "prices": PRICES}, {"mode": "latest", "k": 3}),
        ({"source": "sketch", "points": [[0, 0], [40, 30], [80, 50]], "days": 30}, {"k": 4}),
    ],
)
def test_a_search_is_represented_as_drf_does_fresh_and_read_back(
    search_market, pro_user, spec, options
):
    saved = search_run(user=pro_user, spec=spec, options=options)
    read_back = SavedSearch.objects.get(pk=saved.pk)

    for instance in (saved, read_back):
        assert json.dumps(SavedSearchSerializer().to_representation(instance)) == _drf(instance)


class Inner(serializers.Serializer):
    number = serializers.FloatField()
    choice = serializers.ChoiceField(choices=["a", "b"])


class Outer(serializers.Serializer):
    count = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    optional = serializers.CharField(required=False)
    nullable = serializers.IntegerField(allow_null=True, required=False)
    inner = Inner(allow_null=True)
    inners = Inner(many=True)
    numbers = serializers.ListField(child=serializers.IntegerField())
    table = serializers.DictField(child=serializers.FloatField())
    uuid = serializers.UUIDField(required=False)
    day = serializers.DateField(required=False)


@pytest.mark.parametrize(
    "value",
    [
        {"count": 2.0, "name": 5, "inner": None, "inners": [], "numbers": [1, None, True],
         "table": {5: 1, "x": None}},
        {"count": True, "name": None, "optional": "here", "nullable": None,
         "inner": {"number": 1, "choice": "b", "extra": 1}, "inners": [{"number": 2, "choice": ""}],
         "numbers": [], "table": {}, "uuid": "0b7f4c1e-8a7e-4d55-9f0e-2d3c5a6b7c8d",
         "day": "2015-01-05", "undeclared": 1},
        {"count": 1, "inners": [], "numbers": [], "table": {}},  # name and inner missing: None
    ],
)  # fmt: skip
def test_compiled_fields_give_drf_s_output(value):
    serializer = Outer()

    assert representer(serializer)(value) == serializers.Serializer.to_representation(
        serializer, value
    )
    assert json.dumps(representer(serializer)(value)) == json.dumps(
        serializers.Serializer.to_representation(serializer, value)
    )


def test_a_missing_required_key_raises_as_drf_does():
    with pytest.raises(KeyError, match="count"):
        representer(Outer())({"inners": [], "numbers": [], "table": {}})
