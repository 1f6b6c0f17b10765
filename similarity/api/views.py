from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.permissions import ProApiMixin
from core.api import ERROR_RESPONSE, ERROR_RESPONSES
from core.errors import InvalidInputError, NotFoundError
from core.parsers import AnyTypeJSONParser, JSONParser
from similarity.api.calibration_serializers import CalibrationRunSerializer, TrackRecordSerializer
from similarity.api.serializers import (
    SavedSearchSerializer,
    SavedSearchSummarySerializer,
    SearchInputSerializer,
)
from similarity.selectors import (
    calibration_latest,
    saved_search_get,
    saved_search_list,
    track_record_list,
    track_record_summary,
)
from similarity.services import search_rerun, search_run

# One instance for every response: DRF deep-copies a serializer's declared fields for each new
# one, which cost a search's answer about 3 ms of CPU (0.8 ms reused); to_representation keeps
# no state between calls.
_SAVED_SEARCH = SavedSearchSerializer()

SEARCH_ID = OpenApiParameter(
    "search_id", type=str, location=OpenApiParameter.PATH, description="A saved search's id (UUID)."
)


RESULT_EXAMPLE = {
    "id": "0b7f4c1e-8a7e-4d55-9f0e-2d3c5a6b7c8d",
    "created_at": "2026-11-26T18:30:00+09:00",
    "label": "7974 任天堂 2015-01-05 – 2015-04-30",
    "source": "stock",
    "mode": "history",
    "spec": {"source": "stock", "code": "7974", "from": "2015-01-05", "to": "2015-04-30"},
    "options": {
        "mode": "history",
        "k": 10,
        "horizons": [5, 20, 60],
        "segment": "",
        "sector": "",
        "min_turnover": 0.0,
        "date_from": None,
        "date_to": None,
        "stretch": False,
        "same_period": False,
        "as_of": False,
    },
    "rerun_of": None,
    "pattern": {
        "source": "stock",
        "length": 78,
        "values": [14775.0, 14505.0],
        "normalized": [-1.2021, -1.3542],
        "code": "7974",
        "name": "任天堂",
        "start_date": "2015-01-05",
        "end_date": "2015-04-30",
    },
    "horizons": [5, 20, 60],
    "matches": [
        {
            "rank": 1,
            "code": "6758",
            "name": "ソニーグループ",
            "segment": "プライム（内国株式）",
            "sector": "電気機器",
            "start_date": "2009-03-10",
            "end_date": "2009-06-30",
            "length": 78,
            "correlation": 0.9712,
            "distance": 2.1213,
            "returns": {"5": 0.0213, "20": 0.0488, "60": -0.0311},
            "excess_returns": {"5": 0.0102, "20": 0.0177, "60": -0.0402},
            "excess_benchmark": "TOPIX",
            "episode": 1,
            "window": [-1.1902, -1.4127],
            "after": [1.6021, 1.7233],
            "last_close": 2475.0,
        }
    ],
    "stats": [
        {
            "horizon": 5,
            "count": 9,
            "matches": 10,
            "mean": 0.0102,
            "median": 0.0087,
            "q25": -0.0121,
            "q75": 0.0293,
            "share_positive": 0.6,
            "baseline": {
                "count": 1843211,
                "mean": 0.0021,
                "median": 0.0,
                "q25": -0.0232,
                "q75": 0.0241,
                "share_positive": 0.481,
                "p10": -0.0561,
                "p90": 0.0572,
                "excess_median": -0.0011,
            },
            "excess": {
                "count": 9,
                "mean": 0.0051,
                "median": 0.0032,
                "q25": -0.0102,
                "q75": 0.0188,
                "share_positive": 0.556,
            },
            "interval": {"median": None, "share_positive": None, "range": [-0.0412, 0.0633]},
            "verdict": "insufficient",
            "booked": 0,
            "forecast": {
                "p10": -0.0488,
                "p25": -0.0201,
                "p50": 0.0,
                "p75": 0.0214,
                "p90": 0.0497,
                "matches_weight": 0.0,
            },
        }
    ],
    "fan": {
        "horizon": 60,
        "days": [0, 1, 2],
        "count": 10,
        "bands": {"p10": [1.0, 0.981], "p50": [1.0, 1.002]},
    },
    "groups": [
        {
            "label": "Rally A",
            "share": 0.4,
            "count": 4,
            "median_path": [1.0, 1.004],
            "median_return": 0.083,
            "ranks": [1, 3, 4, 9],
        }
    ],
    "groups_horizon": 60,
    "limits": [],
    "market_benchmark": "TOPIX",
    "warnings": ["few_matches"],
    "forecast_model": {"version": 3, "data_date": "2018-11-16", "demo": False},
    "snapshot": {"id": "20261126T090000000000", "date": "2018-11-16"},
    "elapsed_ms": 41.7,
}


class SearchApi(ProApiMixin, APIView):
    parser_classes = [JSONParser, AnyTypeJSONParser]

    @extend_schema(
        operation_id="search_create",
        summary="Search the market for a pattern",
        description=(
            "Find the windows of the market whose shape is closest to the pattern (z-normalised "
            "Euclidean distance; correlation r = 1 - d²/2m), with what happened after them. "
            "The search is saved: its id opens it again at /api/v1/searches/{id}/. Plan limits "
            "(matches, history, horizons) apply and are listed in `limits`."
        ),
        request=SearchInputSerializer,
        responses={201: SavedSearchSerializer, **ERROR_RESPONSES},
        examples=[
            OpenApiExample(
                "A stock and a date range",
                value={"code": "7974", "from": "2015-01-05", "to": "2015-04-30", "k": 10},
                request_only=True,
            ),
            OpenApiExample(
                "Prices, latest mode",
                value={
                    "prices": [100, 102, 101, 105, 110, 108, 112, 115, 113, 118],
                    "mode": "latest",
                    "k": 20,
                    "segment": "プライム（内国株式）",
                },
                request_only=True,
            ),
            OpenApiExample(
                "A sketch",
                value={"points": [[0, 0], [40, 30], [80, 10], [120, 50]], "days": 60},
                request_only=True,
            ),
            OpenApiExample(
                "A result (shortened)",
                value=RESULT_EXAMPLE,
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request):
        serializer = SearchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        spec, options = serializer.spec_and_options()
        saved = search_run(user=request.user, spec=spec, options=options)
        return Response(_SAVED_SEARCH.to_representation(saved), status=201)


class SavedSearchListApi(ProApiMixin, generics.ListAPIView):
    serializer_class = SavedSearchSummarySerializer

    def get_queryset(self):
        return saved_search_list(user=self.request.user)

    @extend_schema(
        operation_id="searches_list",
        summary="Your saved searches, newest first",
        responses={200: SavedSearchSummarySerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SavedSearchDetailApi(ProApiMixin, APIView):
    @extend_schema(
        operation_id="searches_retrieve",
        summary="One of your saved searches with its result",
        parameters=[SEARCH_ID],
        responses={200: SavedSearchSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, search_id: str):
        saved = saved_search_get(user=request.user, search_id=search_id)
        return Response(_SAVED_SEARCH.to_representation(saved))


class SavedSearchRerunApi(ProApiMixin, APIView):
    @extend_schema(
        operation_id="searches_rerun",
        summary="Run a saved search again on today's data",
        parameters=[SEARCH_ID],
        request=None,
        responses={201: SavedSearchSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, search_id: str):
        saved = saved_search_get(user=request.user, search_id=search_id)
        fresh = search_rerun(user=request.user, saved_search=saved)
        return Response(SavedSearchSerializer(fresh).data, status=201)


class CalibrationApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="calibration_retrieve",
        summary="The latest walk-forward calibration of the forecast and verdicts",
        description=(
            "Random past patterns searched only in the data known before they began; per "
            "pattern length x horizon x volatility third, how often what followed fell inside "
            "the forecast's 10-90 and 25-75 ranges (and the matches' own), the CRPS and Brier "
            "skill against the base rate, and the verdicts' firing and hit rates beside a "
            "date-only control, with 90% intervals; per horizon, whether the look-alikes beat "
            "the base rate, in a sentence. Public. 404 before the first calibration. Each "
            "interval (`?interval=day`, the default, `week` or `month`) is calibrated on its "
            "own closes; an unknown interval is a 400."
        ),
        parameters=[
            OpenApiParameter(
                "interval", str, enum=["day", "week", "month"], description="day, week or month."
            )
        ],
        responses={200: CalibrationRunSerializer, 400: ERROR_RESPONSE, 404: ERROR_RESPONSE},
    )
    def get(self, request):
        interval = request.query_params.get("interval") or "day"
        if interval not in ("day", "week", "month"):
            message = _('The interval is "day", "week" or "month".')
            raise InvalidInputError.for_field("interval", message)
        run = calibration_latest(interval=interval)
        if run is None:
            raise NotFoundError(_("The calibration has not been computed yet."))
        return Response(CalibrationRunSerializer(run).data)


class TrackRecordApi(ProApiMixin, APIView):
    @extend_schema(
        operation_id="track_record_retrieve",
        summary="Your graded searches and your own calibration",
        description=(
            "Searches of a stock's latest stretch are graded once each horizon has passed: "
            "the realised return, its percentile among the matches' outcomes, and whether it "
            "fell inside the 10-90 and 25-75 bands."
        ),
        responses={200: TrackRecordSerializer, **ERROR_RESPONSES},
    )
    def get(self, request):
        data = {
            "summary": track_record_summary(user=request.user),
            "searches": track_record_list(user=request.user),
        }
        return Response(TrackRecordSerializer(data).data)
