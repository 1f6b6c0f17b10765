"""Price files imported into daily bars: one transaction per file, the next read meanwhile."""

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction

from market.bars import Bar
from market.exchanges.tse.files import FileFormatError, price_files, read_price_file
from market.models import DailyBar
from market.services.daily_bars import BarsRejectedError, UpsertResult, daily_bars_upsert
from market.services.listing import stocks_ensure

ANALYZE_AFTER_INSERTS = 100_000


@dataclass
class PriceImportReport:
    files: int = 0
    totals: UpsertResult = field(default_factory=UpsertResult)
    failures: list[str] = field(default_factory=list)


def _price_file_write(*, path: Path, bars_by_code: dict[str, list[Bar]]) -> UpsertResult:
    result = UpsertResult()
    try:
        with transaction.atomic():
            stocks = stocks_ensure(codes=bars_by_code)
            for code, bars in bars_by_code.items():
                result = result + daily_bars_upsert(stock=stocks[code], bars=bars)
    except BarsRejectedError as exc:
        raise FileFormatError(path, 0, str(exc)) from exc
    return result


def price_files_import(
    *,
    paths: Sequence[Path],
    on_file: Callable[[int, int, Path, UpsertResult | None, str | None], None] | None = None,
) -> PriceImportReport:
    """Import every file named or inside a folder named; a failed file does not stop the others.

    The next file is read in a thread while the database writes the current one: the driver
    releases the GIL while it waits, so reading and writing overlap.
    """
    files = list(price_files(paths))
    report = PriceImportReport(files=len(files))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="price-reader") as reader:
        upcoming = deque(reader.submit(read_price_file, path) for path in files[:2])
        for index, path in enumerate(files, start=1):
            reading = upcoming.popleft()
            if index + 1 < len(files):
                upcoming.append(reader.submit(read_price_file, files[index + 1]))
            result, error = None, None
            try:
                result = _price_file_write(path=path, bars_by_code=reading.result())
                report.totals = report.totals + result
            except FileFormatError as exc:
                error = str(exc)
                report.failures.append(error)
            if on_file is not None:
                on_file(index, len(files), path, result, error)
    if report.totals.inserted >= ANALYZE_AFTER_INSERTS and connection.vendor == "postgresql":
        # Fresh statistics, or the planner (and the admin's row estimate) sees an empty table
        # until autovacuum comes round.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {DailyBar._meta.db_table}")
    return report
