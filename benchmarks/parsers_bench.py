"""Throughput of every parser of text from a user or a provider, on ordinary and hostile input.

    .venv/bin/python benchmarks/parsers_bench.py [--megabytes 1]

For each parser (pasted prices, price and listing CSV files, kabutan's page, J-Quants' rows) it
prints MB/s on an ordinary input and on hostile ones of the same size (one unit repeated, the
shapes that once made the price parser rescan each token). A linear parser reads both at
similar rates or refuses the hostile one at once; a quadratic one falls by orders of magnitude
as the size grows. Not a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stocksite.settings")

import django  # noqa: E402

django.setup()

from market.exchanges.tse.files import (  # noqa: E402
    LISTING_COLUMNS,
    FileFormatError,
    read_listing_file,
    read_price_file,
)
from market.exchanges.tse.jquants import parse_daily_bars, parse_master  # noqa: E402
from market.exchanges.tse.kabutan import parse_daily_prices  # noqa: E402
from market.sources.parsing import ParseError  # noqa: E402
from similarity import limits  # noqa: E402
from similarity.validation import SearchInputError, prices_text_parse  # noqa: E402

FIRST_DAY = datetime.date(2026, 1, 1)
REFUSALS = (SearchInputError, ParseError, FileFormatError)
PAGE = ROOT / "tests" / "market" / "pages" / "kabutan_7203_p1.html"
LISTING_HEADER = ",".join(["日付", *LISTING_COLUMNS.values()]) + "\n"


def _fill(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit.encode()))


def _rate(parse, value, size: int, repeat: int = 3) -> tuple[float, str]:
    best, outcome = float("inf"), ""
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            parse(value)
            outcome = "read"
        except REFUSALS as error:
            outcome = f"refused: {str(error)[:50]}"
        best = min(best, time.perf_counter() - started)
    return size / 1e6 / max(best, 1e-9), outcome


def _file(text: str, name: str) -> Path:
    path = Path(tempfile.mkdtemp()) / name
    path.write_text(text, encoding="utf-8")
    return path


def cases(size: int):
    prices_cap = limits.MAX_PRICES_TEXT
    ordinary_prices = _fill("1,520\n", prices_cap - 10)
    yield "prices (ordinary, at the cap)", prices_text_parse, ordinary_prices, len(ordinary_prices)
    for unit in ("1" + "円" * 39 + " ", "1" + "円" * 40, "円", "1,", "\t1"):
        for text in (_fill(unit, prices_cap)[:prices_cap], _fill(unit, size)):
            label = f"prices ({unit[:5]!r}.. x {len(text) // len(unit)})"
            yield label, prices_text_parse, text, len(text.encode())
    page = PAGE.read_text(encoding="utf-8")
    yield "kabutan page (stored)", parse_daily_prices, page, len(page.encode())
    for unit in ("<td>1</td>", "1," * 16 + "1 "):
        text = page.replace("<td>", "<td>" + _fill(unit, size // 2), 1)
        yield f"kabutan page ({unit[:8]!r})", parse_daily_prices, text, len(text.encode())
    row = {"Date": "2026-11-13", "Code": "72030", "O": 1, "H": 2, "L": 1, "C": 2, "Vo": 100}
    rows = [{**row, "Code": f"{1000 + i % 8000}0"} for i in range(size // 80)]
    yield "J-Quants daily rows", parse_daily_bars, rows, size
    yield "J-Quants row, 1 MB code", parse_daily_bars, [{**row, "Code": _fill("7", size)}], size
    master = [{"Code": f"{1000 + i}0", "CoName": "トヨタ自動車"} for i in range(size // 60)]
    yield "J-Quants master rows", parse_master, master, size
    csv_text = "code,date,open,high,low,close,volume\n" + "".join(
        f"{1000 + i % 8000},{FIRST_DAY + datetime.timedelta(i // 8000)},1,2,1,2,100\n"
        for i in range(size // 40)
    )
    yield "price CSV (plain)", read_price_file, _file(csv_text, "plain.csv"), len(csv_text)
    hostile_csv = "code,date,open,high,low,close,volume\n7203,2026-11-13," + _fill("1", size)
    yield "price CSV (one long cell)", read_price_file, _file(hostile_csv, "p.csv"), size
    listing = LISTING_HEADER + "".join(
        f"20261113,{1000 + i},名前{i},プライム,3700,輸送用機器,6,自動車,1,Core30\n"
        for i in range(size // 80)
    )
    yield "listing CSV", read_listing_file, _file(listing, "listing.csv"), len(listing.encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=1.0)
    size = int(parser.parse_args().megabytes * 1e6)
    print(f"{'parser':<40} {'MB':>6} {'MB/s':>9}  outcome")
    for name, parse, value, length in cases(size):
        rate, outcome = _rate(parse, value, length)
        print(f"{name:<40} {length / 1e6:6.2f} {rate:9.1f}  {outcome}")


if __name__ == "__main__":
    main()
