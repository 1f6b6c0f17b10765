"""Watchlist API: the stocks a user follows. Open to every signed-in user, by session or API
token, like the stocks API (the project default, IsAuthenticated); the plan bounds the size."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, parsers, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.watchlist import selectors, services
from core.api import ERROR_RESPONSES
from core.errors import NotFoundError
from core.parsers import AnyTypeJSONParser

CODE = OpenApiParameter(
    "code", type=str, location=OpenApiParameter.PATH, description=_("A stock code, e.g. 7203.")
)
ENTRY_EXAMPLE = {
    "code": "7203",
    "name": "トヨタ自動車",
    "added_at": "2026-12-06T09:30:00+09:00",
    "last_date": "2026-12-04",
    "last_close": 2985.5,
    "change": -0.0123,
}


class WatchlistInputSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=services.CODE_MAX_LENGTH, help_text=_("A stock code, e.g. 7203 or 130A.")
    )


class WatchlistEntrySerializer(serializers.Serializer):
    code = serializers.CharField(source="stock.code")
    name = serializers.CharField(source="stock.name")
    added_at = serializers.DateTimeField()
    last_date = serializers.DateField(
        allow_null=True, help_text=_("The stock's last trading day in the data.")
    )
    last_close = serializers.FloatField(
        allow_null=True, help_text=_("Its close that day, in yen (split-adjusted).")
    )
    change = serializers.FloatField(
        allow_null=True,
        help_text=_(
            "The last close against the close before, as a fraction "
            "(-0.0123: a fall of 1.23 percent)."
        ),
    )


def _rows(entries) -> list[dict]:
    moves = selectors.stock_moves(entries=entries)
    return [
        {
            "stock": entry.stock,
            "added_at": entry.added_at,
            "last_date": move.last_date,
            "last_close": move.last_close,
            "change": move.change,
        }
        for entry, move in zip(entries, moves, strict=True)
    ]


class WatchlistApi(generics.ListAPIView):
    parser_classes = [parsers.JSONParser, AnyTypeJSONParser]
    serializer_class = WatchlistEntrySerializer

    def get_queryset(self):
        return selectors.watchlist_entries(user=self.request.user)

    @extend_schema(
        operation_id="watchlist_list",
        summary="Your watchlist, the stock added last first",
        description="Each stock with its last close and the change from the close before.",
        responses={200: WatchlistEntrySerializer(many=True), **ERROR_RESPONSES},
        examples=[OpenApiExample("A stock", value=ENTRY_EXAMPLE, response_only=True)],
        tags=["watchlist"],
    )
    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WatchlistEntrySerializer(_rows(page), many=True).data)

    @extend_schema(
        operation_id="watchlist_add",
        summary="Add a stock to your watchlist",
        description=(
            "201 when the stock was added; 200 when it was already in the watchlist (it is not "
            "added twice, and does not count against the limit again); 404 for an unknown code. "
            "The plan limits the stocks in a watchlist: over it, 403 with code `watchlist_limit` "
            "and the limit in the message."
        ),
        request=WatchlistInputSerializer,
        responses={201: WatchlistEntrySerializer, 200: WatchlistEntrySerializer, **ERROR_RESPONSES},
        examples=[
            OpenApiExample("Toyota", value={"code": "7203"}, request_only=True),
            OpenApiExample("Added", value=ENTRY_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
        tags=["watchlist"],
    )
    def post(self, request):
        serializer = WatchlistInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        added = services.watchlist_add(user=request.user, code=serializer.validated_data["code"])
        row = _rows([added.entry])[0]
        return Response(WatchlistEntrySerializer(row).data, status=201 if added.created else 200)


class WatchlistDetailApi(APIView):
    @extend_schema(
        operation_id="watchlist_remove",
        summary="Take a stock out of your watchlist",
        description="204 when it was removed; 404 for an unknown code or one not in the list.",
        parameters=[CODE],
        responses={204: None, **ERROR_RESPONSES},
        tags=["watchlist"],
    )
    def delete(self, request, code: str):
        if not services.watchlist_remove(user=request.user, code=code):
            raise NotFoundError(
                _("%(code)s is not in your watchlist.") % {"code": code.strip()[:16]}
            )
        return Response(status=204)
