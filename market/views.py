from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET

from market import selectors
from market.forms import StockFilterForm

STOCKS_PER_PAGE = 50
PRESET_DAYS = (20, 60, 120, 250)
# The chart's moving averages (days) and the CSS colour variable of each line.
MOVING_AVERAGES = ((5, "--ma-short"), (25, "--ma-mid"), (75, "--ma-long"))
# The chart's timeframes, as Japanese brokers name them (日足, 週足, 月足).
CHART_INTERVALS = (("day", _lazy("Daily")), ("week", _lazy("Weekly")), ("month", _lazy("Monthly")))


@require_GET
def stock_list(request):
    segments, sectors = selectors.stock_filter_choices()
    form = StockFilterForm(request.GET, segments=segments, sectors=sectors)
    # An unknown segment or sector in a shared link shows the whole list rather than an error.
    filters = form.cleaned_data if form.is_valid() else {}
    query = filters.get("q", "")
    if query and not filters.get("segment") and not filters.get("sector"):
        # A code alone opens its stock, as the header search promises.
        stock = selectors.stock_by_code(code=query)
        if stock is not None:
            return redirect("stock_detail", code=stock.code)
    stocks = selectors.stock_list(
        query=query,
        segment=filters.get("segment", ""),
        sector=filters.get("sector", ""),
    )
    page = Paginator(stocks, STOCKS_PER_PAGE).get_page(request.GET.get("page"))
    query_without_page = request.GET.copy()
    query_without_page.pop("page", None)
    return render(
        request,
        "market/stock_list.html",
        {
            "form": form,
            "page": page,
            "query_string": query_without_page.urlencode(),
            "filtered": any(filters.values()),
        },
    )


@require_GET
def stock_suggest(request):
    """The completion of the header search and the search form's code field: [{code, name}]."""
    stocks = selectors.stock_suggestions(query=request.GET.get("q", "")[:100])
    return JsonResponse(
        {"stocks": [{"code": stock.code, "name": stock.display_name} for stock in stocks]}
    )


@require_GET
def stock_detail(request, code: str):
    stock = selectors.stock_by_code(code=code)
    if stock is None:
        raise Http404(_("No stock with code %(code)s.") % {"code": code})
    chart = selectors.stock_chart(stock=stock)
    bars = chart["bars"]
    # Weekly and monthly candles for the chart's 日足/週足/月足 toggle, from the same rows.
    chart["intervals"] = {
        interval: selectors.chart_candles(bars, interval) for interval in ("week", "month")
    }
    interval = request.GET.get("interval")
    day_change = None
    if len(bars) > 1 and bars[-2][4]:
        day_change = (bars[-1][4] / bars[-2][4] - 1) * 100
    return render(
        request,
        "market/stock_detail.html",
        {
            "stock": stock,
            "chart": {"code": stock.code, **chart},
            "bar_count": len(bars),
            "last_bar": bars[-1] if bars else None,
            "day_change": day_change,
            # 売買代金 of the last day: close × volume (the last bar is as traded, factor 1).
            "turnover": bars[-1][4] * bars[-1][5] if bars else None,
            "presets": [days for days in PRESET_DAYS if days <= len(bars)],
            "moving_averages": MOVING_AVERAGES,
            "chart_intervals": CHART_INTERVALS,
            "chart_interval": interval if interval in dict(CHART_INTERVALS) else "day",
        },
    )
