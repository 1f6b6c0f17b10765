import datetime

from django.core.cache import cache
from django.db.models import F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from core.text import normalize_search_text
from market.exchanges.tse.calendar import is_trading_day_by_rule
from market.models import DailyBar, ScrapeRun, Stock, TradingDay

MARKET_SUMMARY_CACHE_KEY = "market:summary"
# The source name of the run that records the bundled demo market's load.
DEMO_SOURCE = "demo"
# Data more trading days behind today than this get a notice on every page.
STALE_AFTER_TRADING_DAYS = 3


def market_summary() -> dict:
    """Counts of stocks and bars, the last bar date, when the last run that wrote data finished
    and whether that was the demo's load; cached, since counting bars is slow."""
    summary = cache.get(MARKET_SUMMARY_CACHE_KEY)
    if summary is None:
        run = (
            ScrapeRun.objects.filter(finished_at__isnull=False)
            .exclude(status=ScrapeRun.Status.FAILED)
            .order_by("-finished_at")
            .values("source", "finished_at")
            .first()
        )
        summary = {
            "stocks": Stock.objects.count(),
            "bars": DailyBar.objects.count(),
            "last_date": DailyBar.objects.aggregate(last=Max("date"))["last"],
            "updated_at": run["finished_at"] if run else None,
            "demo": bool(run) and run["source"] == DEMO_SOURCE,
        }
        cache.set(MARKET_SUMMARY_CACHE_KEY, summary, timeout=300)
    return summary


def market_freshness(*, today: datetime.date | None = None) -> dict:
    """How current the prices are: the last data date, when the data were last written, whether
    they are the demo's, and `stale` once they are more than STALE_AFTER_TRADING_DAYS trading
    days behind today (Tokyo)."""
    summary = market_summary()
    last_date = summary["last_date"]
    today = today or timezone.localdate()
    behind = 0  # trading days after the data's last one and before today
    if last_date is not None:
        day = last_date + datetime.timedelta(days=1)
        while day < today and behind <= STALE_AFTER_TRADING_DAYS:
            behind += is_trading_day_by_rule(day)
            day += datetime.timedelta(days=1)
    return {
        "last_date": last_date,
        "updated_at": summary["updated_at"],
        "demo": summary["demo"],
        "stale": last_date is not None and behind > STALE_AFTER_TRADING_DAYS,
    }


def stock_list(*, query: str = "", segment: str = "", sector: str = "") -> QuerySet[Stock]:
    """Listed stocks matching a code prefix or a fragment of the Japanese or English name
    (full-width input folded: ７２０３, ｿﾆｰ, Ｎｉｎｔｅｎｄｏ)."""
    stocks = Stock.objects.filter(is_listed=True)
    text = normalize_search_text(query)
    if text:
        stocks = stocks.filter(
            Q(code__istartswith=text.upper().replace(" ", ""))
            | Q(name_normalized__contains=text)
            | Q(name_en__icontains=text)
        )
    if segment:
        stocks = stocks.filter(segment=segment)
    if sector:
        stocks = stocks.filter(sector33_code=sector)
    last_close = DailyBar.objects.filter(stock=OuterRef("pk"), date=OuterRef("last_bar_date"))
    return stocks.annotate(last_close=Subquery(last_close.values("close")[:1])).order_by("code")


def stock_filter_choices() -> tuple[list[str], list[tuple[str, str]]]:
    """The segments and 33-sectors present in the market, for the directory's filters."""
    segments = list(
        Stock.objects.exclude(segment="")
        .values_list("segment", flat=True)
        .distinct()
        .order_by("segment")
    )
    sectors = list(
        Stock.objects.exclude(sector33_code="")
        .values_list("sector33_code", "sector33")
        .distinct()
        .order_by("sector33_code")
    )
    return segments, sectors


def stock_chart_bars(*, stock: Stock) -> list[list]:
    """Every bar of a stock, oldest first, as [date, open, high, low, close, volume] with open,
    high, low and close split-adjusted (traded price × adj_close / close), for the chart."""
    return stock_chart(stock=stock)["bars"]


# A change of the day's split factor smaller than this is rounding in the stored prices.
SPLIT_FACTOR_TOLERANCE = 0.01


def stock_chart(*, stock: Stock) -> dict:
    """The chart of a stock: `bars` as stock_chart_bars() gives them, and `splits`, the days
    its split factor (adj_close / close) changed, as {date, ratio} with ratio = shares after
    one share before (2.0 for a 1:2 split; below 1 for a reverse split)."""
    rows = DailyBar.objects.filter(stock=stock).order_by("date")
    bars, splits = [], []
    previous_factor = None
    for day, open_, high, low, close, volume, adj_close in rows.values_list(
        "date", "open", "high", "low", "close", "volume", "adj_close"
    ):
        factor = adj_close / close if close else 1.0
        if previous_factor and abs(factor / previous_factor - 1) > SPLIT_FACTOR_TOLERANCE:
            splits.append({"date": day.isoformat(), "ratio": round(factor / previous_factor, 4)})
        previous_factor = factor
        bars.append(
            [
                day.isoformat(),
                round(open_ * factor, 4),
                round(high * factor, 4),
                round(low * factor, 4),
                round(adj_close, 4),
                volume,
            ]
        )
    return {"bars": bars, "splits": splits}


def stocks_by_codes(*, codes: list[str]) -> list[Stock]:
    """The Tokyo stocks of these codes, in the order given; unknown codes are left out."""
    found = {s.code: s for s in Stock.objects.filter(market=Stock.Market.TSE, code__in=codes)}
    return [found[code] for code in codes if code in found]


def stock_english_names(*, codes: list[str]) -> dict[str, str]:
    """{code: English name} of the Tokyo stocks of these codes that have one."""
    return dict(
        Stock.objects.filter(market=Stock.Market.TSE, code__in=codes)
        .exclude(name_en="")
        .values_list("code", "name_en")
    )


def stocks_recent_closes(
    *, stocks: list[Stock], count: int
) -> dict[int, list[tuple[datetime.date, float]]]:
    """The last `count` split-adjusted closes of each stock, oldest first, as (date, close) by
    stock id, in one query for all of them (a watchlist's charts).

    Only the bars of the last `count` x 7/5 + 30 calendar days before each stock's last bar are
    read: stocks are grouped by their last bar's date (most share the market's last day), so
    the (stock, date) index gives each stock's recent range.
    """
    span = datetime.timedelta(days=count * 7 // 5 + 30)
    by_last_day: dict[datetime.date, list[int]] = {}
    for stock in stocks:
        if stock.last_bar_date is not None:
            by_last_day.setdefault(stock.last_bar_date, []).append(stock.pk)
    closes: dict[int, list[tuple[datetime.date, float]]] = {stock.pk: [] for stock in stocks}
    if not by_last_day:
        return closes
    recent = Q()
    for last_day, ids in by_last_day.items():
        recent |= Q(stock_id__in=ids, date__gte=last_day - span)
    rows = (
        DailyBar.objects.filter(recent)
        .annotate(
            recency=Window(RowNumber(), partition_by=[F("stock_id")], order_by=F("date").desc())
        )
        .filter(recency__lte=count)
        .order_by("stock_id", "date")
        .values_list("stock_id", "date", "adj_close")
    )
    for stock_id, day, close in rows:
        closes[stock_id].append((day, close))
    return closes


def stock_by_code(*, code: str) -> Stock | None:
    """The Tokyo stock of this code (full-width digits and lower-case letters accepted)."""
    normalized = normalize_search_text(code).upper()
    return Stock.objects.filter(market=Stock.Market.TSE, code=normalized).first()


SUGGESTIONS_LIMIT = 8


def stock_suggestions(*, query: str, limit: int = SUGGESTIONS_LIMIT) -> list[Stock]:
    """Listed stocks for a search box's completion: the code typed first, then codes that start
    with it, then names that contain it (either script: トヨタ, とよた, Toyota)."""
    text = normalize_search_text(query)
    if not text:
        return []
    code = text.upper().replace(" ", "")
    matching = Q(code__istartswith=code) | Q(name_normalized__contains=text)
    matching |= Q(name_en__icontains=text)
    stocks = list(Stock.objects.filter(matching, is_listed=True).order_by("code")[: limit * 4])
    stocks.sort(key=lambda stock: (stock.code != code, not stock.code.startswith(code)))
    return stocks[:limit]


def stock_by_code_or_name(*, text: str) -> Stock | None:
    """The listed stock a person means by a code (7203, ７２０３) or by a name that only one
    listed stock contains (トヨタ自動車, とよた); None when there is none or more than one."""
    stock = stock_by_code(code=text)
    if stock is not None:
        return stock
    if not normalize_search_text(text):
        return None
    matches = list(stock_list(query=text)[:2])
    return matches[0] if len(matches) == 1 else None


def daily_bars_range(
    *, stock: Stock, start: datetime.date | None = None, end: datetime.date | None = None
) -> list[dict]:
    """Bars of a stock between two dates (inclusive), oldest first: as traded, and
    split-adjusted (each price times the day's factor adj_close / close)."""
    bars = DailyBar.objects.filter(stock=stock).order_by("date")
    if start is not None:
        bars = bars.filter(date__gte=start)
    if end is not None:
        bars = bars.filter(date__lte=end)
    result = []
    for day, open_, high, low, close, volume, adj_close in bars.values_list(
        "date", "open", "high", "low", "close", "volume", "adj_close"
    ):
        factor = adj_close / close
        result.append(
            {
                "date": day,
                "open": open_,
                "high": high,
                "low": low,
                "close": close,
                "volume": volume,
                "adj_factor": factor,
                "adj_open": open_ * factor,
                "adj_high": high * factor,
                "adj_low": low * factor,
                "adj_close": adj_close,
            }
        )
    return result


def is_trading_day(day: datetime.date) -> bool:
    """Whether the exchange trades on `day`: its stored calendar decides, else the rule."""
    kind = (
        TradingDay.objects.filter(market=Stock.Market.TSE, date=day)
        .values_list("kind", flat=True)
        .first()
    )
    if kind is not None:
        return kind != TradingDay.Kind.CLOSED
    return is_trading_day_by_rule(day)
