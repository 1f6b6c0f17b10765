"""Market data API: the state of the data, stocks and their daily bars.

Permission: any signed-in user, by session or API token (the project default, IsAuthenticated).
This is the same data every signed-in user sees on /stocks/; API tokens are only issued on the
plans that include the API, so token access follows the plan without another check here.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ERROR_RESPONSE
from core.errors import NotFoundError
from market.models import ChartInterval, Stock
from market.selectors import (
    INTERVALS,
    daily_bars_range,
    market_summary,
    stock_by_code,
    stock_list,
)

ERRORS = {400: ERROR_RESPONSE, 401: ERROR_RESPONSE, 404: ERROR_RESPONSE}


class StatusSerializer(serializers.Serializer):
    stocks = serializers.IntegerField(help_text=_("Number of stocks."))
    bars = serializers.IntegerField(help_text=_("Number of daily bars."))
    last_date = serializers.DateField(allow_null=True, help_text=_("Date of the newest bar."))


class StatusApi(APIView):
    @extend_schema(
        summary="State of the market data",
        responses={200: StatusSerializer, 401: ERROR_RESPONSE},
        tags=["market"],
    )
    def get(self, request):
        return Response(StatusSerializer(market_summary()).data)


class StockSerializer(serializers.ModelSerializer):
    class Meta:
        model = Stock
        fields = [
            "code",
            "name",
            "market",
            "segment",
            "sector33_code",
            "sector33",
            "sector17_code",
            "sector17",
            "size_code",
            "size_class",
            "is_listed",
            "first_bar_date",
            "last_bar_date",
        ]


class StockListQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100)
    segment = serializers.CharField(required=False, allow_blank=True, max_length=100)
    sector = serializers.CharField(required=False, allow_blank=True, max_length=8)


class StockListApi(generics.ListAPIView):
    serializer_class = StockSerializer

    @extend_schema(
        summary="Search listed stocks",
        description=(
            "Listed stocks whose code starts with `q` or whose name contains it. Full-width "
            "input and case are folded (NFKC), so `ｔｏｙｏｔａ` and `７２０３` work."
        ),
        parameters=[
            OpenApiParameter("q", str, description="Code prefix or part of the name."),
            OpenApiParameter(
                "segment", str, description="Market segment, e.g. プライム（内国株式）"
            ),
            OpenApiParameter("sector", str, description="33-sector code, e.g. 3700."),
        ],
        responses={200: StockSerializer(many=True), 400: ERROR_RESPONSE, 401: ERROR_RESPONSE},
        tags=["market"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = StockListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return stock_list(
            query=query.validated_data.get("q", ""),
            segment=query.validated_data.get("segment", ""),
            sector=query.validated_data.get("sector", ""),
        )


def _stock_or_404(code: str) -> Stock:
    stock = stock_by_code(code=code)
    if stock is None:
        raise NotFoundError(_("No stock with code %(code)s.") % {"code": code})
    return stock


class StockDetailApi(APIView):
    @extend_schema(summary="One stock", responses={200: StockSerializer, **ERRORS}, tags=["market"])
    def get(self, request, code: str):
        return Response(StockSerializer(_stock_or_404(code)).data)


class BarsQuerySerializer(serializers.Serializer):
    def get_fields(self):
        # `from` is a Python keyword: declare the fields here rather than as attributes.
        return {
            "from": serializers.DateField(required=False, input_formats=["iso-8601"]),
            "to": serializers.DateField(required=False, input_formats=["iso-8601"]),
            "interval": serializers.ChoiceField(
                choices=ChartInterval.choices,
                required=False,
                error_messages={
                    "invalid_choice": _('The interval is "day", "week" or "month", not "{input}".')
                },
            ),
        }

    def validate(self, attrs):
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": [_("The end date is before the start date.")]})
        return attrs


class BarSerializer(serializers.Serializer):
    date = serializers.DateField()
    open = serializers.FloatField(help_text=_("As traded."))
    high = serializers.FloatField()
    low = serializers.FloatField()
    close = serializers.FloatField()
    volume = serializers.IntegerField(
        help_text=_("Shares traded that day (that week or month: the days' sum).")
    )
    adj_factor = serializers.FloatField(help_text=_("Cumulative split factor: adj_close / close."))
    adj_open = serializers.FloatField(help_text=_("Split-adjusted."))
    adj_high = serializers.FloatField()
    adj_low = serializers.FloatField()
    adj_close = serializers.FloatField()


class StockBarsSerializer(serializers.Serializer):
    code = serializers.CharField()
    bars = BarSerializer(many=True)


class StockBarsApi(APIView):
    @extend_schema(
        summary="Daily, weekly or monthly bars of a stock",
        description=(
            "Oldest first, between `from` and `to` (inclusive, YYYY-MM-DD, both optional): the "
            "prices as traded and split-adjusted. With `interval=week` or `month`, one candle a "
            "week (Monday to Sunday) or calendar month built from the daily bars: the first "
            "open, the highest high, the lowest low, the last close and the summed volume, "
            "dated by the period's last trading day; `from` and `to` select the candles whose "
            "last trading day falls between them. Reversed or malformed dates, or another "
            "interval: 400."
        ),
        parameters=[
            OpenApiParameter("from", str, description="First date, YYYY-MM-DD."),
            OpenApiParameter("to", str, description="Last date, YYYY-MM-DD."),
            OpenApiParameter(
                "interval",
                str,
                enum=list(INTERVALS),
                description="day (default), week or month.",
            ),
        ],
        responses={200: StockBarsSerializer, **ERRORS},
        tags=["market"],
    )
    def get(self, request, code: str):
        stock = _stock_or_404(code)
        query = BarsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        bars = daily_bars_range(
            stock=stock,
            start=query.validated_data.get("from"),
            end=query.validated_data.get("to"),
            interval=query.validated_data.get("interval") or "day",
        )
        return Response(StockBarsSerializer({"code": stock.code, "bars": bars}).data)
