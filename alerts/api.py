from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, parsers
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts import selectors, services
from alerts.serializers import (
    AlertHitSerializer,
    AlertInputSerializer,
    AlertSerializer,
    AlertUpdateSerializer,
)
from billing.permissions import ProApiMixin
from core.api import ERROR_RESPONSES
from core.parsers import AnyTypeJSONParser

ALERT_ID = OpenApiParameter(
    "alert_id", type=int, location=OpenApiParameter.PATH, description=_("An alert's id.")
)
ALERT_EXAMPLE = {
    "id": 12,
    "name": "7974 任天堂 2015-01-05 – 2015-04-30",
    "source": "stock",
    "spec": {"source": "stock", "code": "7974", "from": "2015-01-05", "to": "2015-04-30"},
    "pattern": [14775.0, 14505.0, 14640.0],
    "length": 78,
    "threshold": 0.9,
    "segment": "",
    "sector": "",
    "min_turnover": 0.0,
    "universe": "market",
    "active": True,
    "status": "active",
    "paused_by": "",
    "created_at": "2026-11-26T18:30:00+09:00",
    "last_checked_at": "2026-11-27T17:05:12+09:00",
    "last_checked_date": "2026-11-27",
}


class AlertListApi(ProApiMixin, generics.ListAPIView):
    parser_classes = [parsers.JSONParser, AnyTypeJSONParser]
    serializer_class = AlertSerializer

    def get_queryset(self):
        return selectors.alert_list(user=self.request.user)

    @extend_schema(
        operation_id="alerts_list",
        summary="Your shape alerts, newest first",
        responses={200: AlertSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="alerts_create",
        summary="Watch the market for a pattern",
        description=(
            "After each day's data, every stock whose latest window correlates with the pattern "
            "at or above `threshold` (latest mode, with the search's filters) is a hit, and you "
            "get one mail a day listing them. A stock's range is frozen to its prices now. With "
            '`universe: "watchlist"` only the stocks in your watchlist at each check are looked '
            "at. The plan limits the active alerts: over it, 403 with the limit in the message."
        ),
        request=AlertInputSerializer,
        responses={201: AlertSerializer, **ERROR_RESPONSES},
        examples=[
            OpenApiExample(
                "A stock and a date range",
                value={"code": "7974", "from": "2015-01-05", "to": "2015-04-30", "threshold": 0.9},
                request_only=True,
            ),
            OpenApiExample(
                "Prices, Prime only",
                value={
                    "name": "Double bottom",
                    "prices": [100, 92, 88, 95, 101, 93, 89, 96, 104, 110],
                    "threshold": 0.85,
                    "segment": "プライム（内国株式）",
                },
                request_only=True,
            ),
            OpenApiExample(
                "My watchlist only",
                value={"prices": [100, 96, 93, 97, 102, 108], "universe": "watchlist"},
                request_only=True,
            ),
            OpenApiExample(
                "The alert", value=ALERT_EXAMPLE, response_only=True, status_codes=["201"]
            ),
        ],
    )
    def post(self, request):
        serializer = AlertInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = services.alert_create(user=request.user, **serializer.alert_fields())
        return Response(AlertSerializer(alert).data, status=201)


class AlertDetailApi(ProApiMixin, APIView):
    parser_classes = [parsers.JSONParser, AnyTypeJSONParser]

    @extend_schema(
        operation_id="alerts_retrieve",
        summary="One of your alerts",
        parameters=[ALERT_ID],
        responses={200: AlertSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, alert_id: int):
        alert = selectors.alert_get(user=request.user, alert_id=alert_id)
        return Response(AlertSerializer(alert).data)

    @extend_schema(
        operation_id="alerts_partial_update",
        summary="Rename, change the threshold, pause or resume",
        parameters=[ALERT_ID],
        request=AlertUpdateSerializer,
        responses={200: AlertSerializer, **ERROR_RESPONSES},
        examples=[
            OpenApiExample("Pause", value={"active": False}, request_only=True),
            OpenApiExample("Stricter", value={"threshold": 0.95}, request_only=True),
        ],
    )
    def patch(self, request, alert_id: int):
        alert = selectors.alert_get(user=request.user, alert_id=alert_id)
        serializer = AlertUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = services.alert_update(user=request.user, alert=alert, **serializer.validated_data)
        return Response(AlertSerializer(alert).data)

    @extend_schema(
        operation_id="alerts_destroy",
        summary="Delete an alert and its hits",
        parameters=[ALERT_ID],
        responses={204: None, **ERROR_RESPONSES},
    )
    def delete(self, request, alert_id: int):
        alert = selectors.alert_get(user=request.user, alert_id=alert_id)
        services.alert_delete(user=request.user, alert=alert)
        return Response(status=204)


class AlertHitsApi(ProApiMixin, generics.ListAPIView):
    serializer_class = AlertHitSerializer

    def get_queryset(self):
        alert = selectors.alert_get(user=self.request.user, alert_id=self.kwargs["alert_id"])
        return selectors.alert_hits(alert=alert)

    @extend_schema(
        operation_id="alerts_hits_list",
        summary="An alert's hits, the latest data date first",
        parameters=[ALERT_ID],
        responses={200: AlertHitSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
