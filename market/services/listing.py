"""Writes of the listed issues: the exchange's list (names, segments, sectors, the underlying of
a fund), stocks known only by their prices, and English names.

Entry points: `stock_listing_upsert`, `stocks_ensure`, `stock_names_en_set`,
`stock_underlyings_infer`.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from core.text import normalize_search_text
from market.exchanges.tse.codes import CODE_RE
from market.exchanges.tse.files import ListingRow
from market.exchanges.tse.underlying import underlying_infer
from market.models import Stock
from market.services.daily_bars import market_summary_invalidate

LISTING_FIELDS = (
    "name",
    "segment",
    "sector33_code",
    "sector33",
    "sector17_code",
    "sector17",
    "size_code",
    "size_class",
)


@dataclass
class ListingResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    delisted: int = 0
    rejected: dict[str, str] = field(default_factory=dict)  # {code: why the row was skipped}

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.delisted


def listing_row_problem(row, *, fields: Sequence[str] = LISTING_FIELDS) -> str | None:
    """Why a row of the exchange's list cannot be stored, or None: a code the exchange does not
    issue, an empty name, a value longer than its column or holding control characters."""
    if not isinstance(row.code, str) or not CODE_RE.match(row.code):
        return f"{str(row.code)[:20]!r} is not a stock code"
    if not str(row.name).strip():
        return "the name is empty"
    for name in fields:
        value = getattr(row, name)
        size = Stock._meta.get_field(name).max_length
        if not isinstance(value, str) or len(value) > size:
            return f"{name} is longer than {size} characters"
        if any(ord(char) < 32 or ord(char) == 127 for char in value):
            return f"{name} holds control characters"
    return None


@transaction.atomic
def stock_listing_upsert(
    *,
    rows: Sequence[ListingRow],
    delist_missing: bool = False,
    fields: Sequence[str] = LISTING_FIELDS,
) -> ListingResult:
    """Create or update the listed issues from the exchange's list.

    With `delist_missing`, stocks absent from the list are marked unlisted: pass it only with the
    exchange's whole list, never with a part of it. `fields` are the ones the rows carry. A row
    with a problem (`listing_row_problem`) is skipped and reported in `rejected`; its stock, if
    stored, is left as it was.
    """
    result = ListingResult()
    existing = {stock.code: stock for stock in Stock.objects.filter(market=Stock.Market.TSE)}
    to_create, to_update = [], []
    listed_codes = set()
    for row in rows:
        listed_codes.add(str(row.code)[:8])
        problem = listing_row_problem(row, fields=fields)
        if problem is not None:
            result.rejected[str(row.code)[:8]] = problem
            continue
        values = {name: getattr(row, name) for name in fields}
        stock = existing.get(row.code)
        if stock is None:
            stock = Stock(market=Stock.Market.TSE, code=row.code, is_listed=True, **values)
            stock.name_normalized = normalize_search_text(stock.name)
            stock.underlying = underlying_infer(name=stock.name, segment=stock.segment)
            to_create.append(stock)
            continue
        if stock.is_listed and all(getattr(stock, name) == value for name, value in values.items()):
            result.unchanged += 1
            continue
        named = "name" in values and values["name"] != stock.name
        for name, value in values.items():
            setattr(stock, name, value)
        if named and not stock.underlying:
            # A stock first named now (jp_daily's delisted issues start nameless) or renamed;
            # an underlying already set, by staff or from an earlier name, is kept.
            stock.underlying = underlying_infer(name=stock.name, segment=stock.segment)
        stock.is_listed = True
        stock.name_normalized = normalize_search_text(stock.name)
        stock.updated_at = timezone.now()
        to_update.append(stock)
    Stock.objects.bulk_create(to_create, batch_size=500)
    Stock.objects.bulk_update(
        to_update,
        [*fields, "name_normalized", "underlying", "is_listed", "updated_at"],
        batch_size=500,
    )
    result.created, result.updated = len(to_create), len(to_update)
    if delist_missing:
        result.delisted = (
            Stock.objects.filter(market=Stock.Market.TSE, is_listed=True)
            .exclude(code__in=listed_codes)
            .update(is_listed=False, updated_at=timezone.now())
        )
    if result.changed:
        market_summary_invalidate()
    return result


def stocks_ensure(*, codes: Iterable[str]) -> dict[str, Stock]:
    """The stocks of these codes; unknown ones are created unlisted, named by their code.

    jp_daily holds issues that were delisted before the exchange's current list: they keep their
    history, and a later listing import names them if they are in it.
    """
    codes = set(codes)
    stocks = {s.code: s for s in Stock.objects.filter(market=Stock.Market.TSE, code__in=codes)}
    missing = [
        Stock(market=Stock.Market.TSE, code=code, name=code, name_normalized=code.casefold())
        for code in sorted(codes - stocks.keys())
    ]
    for stock in missing:
        stock.is_listed = False
        stock.full_clean(exclude=["name_normalized"], validate_unique=False)
    if missing:
        Stock.objects.bulk_create(missing, ignore_conflicts=True)
        stocks.update(
            {
                s.code: s
                for s in Stock.objects.filter(
                    market=Stock.Market.TSE, code__in=[m.code for m in missing]
                )
            }
        )
    return stocks


@transaction.atomic
def stock_names_en_set(*, names: dict[str, str]) -> int:
    """Give Tokyo stocks their English names ({code: name_en}); returns how many changed."""
    stocks = list(Stock.objects.filter(market=Stock.Market.TSE, code__in=names))
    changed = [stock for stock in stocks if stock.name_en != names[stock.code]]
    for stock in changed:
        stock.name_en = names[stock.code]
    Stock.objects.bulk_update(changed, ["name_en"])
    return len(changed)


def stock_underlyings_infer(*, stocks: Iterable[Stock]) -> int:
    """Set these stocks' underlyings from their names (staff asked: a choice made before is
    replaced); returns how many changed."""
    changed = []
    for stock in stocks:
        underlying = underlying_infer(name=stock.name, segment=stock.segment)
        if underlying != stock.underlying:
            stock.underlying = underlying
            changed.append(stock)
    Stock.objects.bulk_update(changed, ["underlying"])
    return len(changed)
