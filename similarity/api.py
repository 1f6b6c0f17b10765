from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, parsers
from rest_framework.exceptions import ParseError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.permissions import HasApiAccess
from billing.throttling import PlanRateThrottle
from similarity.selectors import saved_search_get, saved_search_list
from similarity.serializers import (
    SavedSearchSerializer,
    SavedSearchSummarySerializer,
    SearchInputSerializer,
    saved_search_data,
)
from similarity.services import search_rerun, search_run
from stocksite.api import ERROR_RESPONSE


class AnyTypeJSONParser(parsers.JSONParser):
    """Reads the body as JSON whatever its Content-Type (`curl -d` sends a form type)."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError as exc:
            raise ParseError(_("The body is not JSON: %(error)s") % {"error": exc.detail}) from exc


ERRORS = {
    400: ERROR_RESPONSE,
    401: ERROR_RESPONSE,
    402: ERROR_RESPONSE,
    403: ERROR_RESPONSE,
    404: ERROR_RESPONSE,
    429: ERROR_RESPONSE,
}
SEARCH_ID = OpenApiParameter(
    "search_id", type=str, location=OpenApiParameter.PATH, description="A saved search's id (UUID)."
)


class ProApiMixin:
    permission_classes = [IsAuthenticated, HasApiAccess]
    throttle_classes = [PlanRateThrottle]


class SearchApi(ProApiMixin, APIView):
    parser_classes = [parsers.JSONParser, AnyTypeJSONParser]

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
        responses={201: SavedSearchSerializer, **ERRORS},
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
        ],
    )
    def post(self, request):
        serializer = SearchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        spec, options = serializer.spec_and_options()
        saved = search_run(user=request.user, spec=spec, options=options)
        return Response(saved_search_data(saved), status=201)


class SavedSearchListApi(ProApiMixin, generics.ListAPIView):
    serializer_class = SavedSearchSummarySerializer

    def get_queryset(self):
        return saved_search_list(user=self.request.user)

    @extend_schema(
        operation_id="searches_list",
        summary="Your saved searches, newest first",
        responses={200: SavedSearchSummarySerializer(many=True), **ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SavedSearchDetailApi(ProApiMixin, APIView):
    @extend_schema(
        operation_id="searches_retrieve",
        summary="One of your saved searches with its result",
        parameters=[SEARCH_ID],
        responses={200: SavedSearchSerializer, **ERRORS},
    )
    def get(self, request, search_id: str):
        saved = saved_search_get(user=request.user, search_id=search_id)
        return Response(saved_search_data(saved))


class SavedSearchRerunApi(ProApiMixin, APIView):
    @extend_schema(
        operation_id="searches_rerun",
        summary="Run a saved search again on today's data",
        parameters=[SEARCH_ID],
        request=None,
        responses={201: SavedSearchSerializer, **ERRORS},
    )
    def post(self, request, search_id: str):
        saved = saved_search_get(user=request.user, search_id=search_id)
        return Response(saved_search_data(search_rerun(user=request.user, saved_search=saved)), 201)
