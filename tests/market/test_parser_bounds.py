"""Every parser of text from a user or a provider, fed adversarial inputs of up to 1 MB: each one
reads it or refuses it with its own error, never anything else (a crash, a hang on quadratic work).
Their throughput is printed by benchmarks/parsers_bench.py, not timed here."""

import contextlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market.exchanges.tse.files import (
    LISTING_COLUMNS,
    FileFormatError,
    read_listing_file,
    read_price_file,
)
from market.exchanges.tse.jquants import (
    parse_calendar,
    parse_daily_bars,
    parse_index_bars,
    parse_master,
)
from market.exchanges.tse.kabutan import parse_daily_prices
from market.sources.parsing import ParseError
from similarity.validation import SearchInputError, prices_text_parse, sketch_points_parse
from tests.market.kabutan_pages import HEADER

MEGABYTE = 1 << 20
# Pieces that once made a parser rescan what it had read, or that its grammar treats specially.
NASTY = ["円", "JPY", "¥", ",", "1,", "1,000", "\t", "\n", " ", "-", "9", ".", "年", "(", "<td>"]

piece = st.one_of(st.sampled_from(NASTY), st.text(min_size=1, max_size=6))
adversarial = st.builds(
    lambda head, unit, power, tail: head + unit * max(1, (1 << power) // len(unit)) + tail,
    st.text(max_size=8),
    piece,
    st.integers(min_value=0, max_value=20),  # up to 1 MB of the repeated piece
    st.text(max_size=8),
)
bounded = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _kabutan_page(cell: str) -> str:
    return (
        f'<table class="stock_kabuka_dwm"><thead><tr>{HEADER}</tr></thead><tbody><tr>'
        f'<th><time datetime="2026-11-13">26/11/13</time></th>'
        f"<td>{cell}</td><td>1</td><td>1</td><td>1</td><td>0</td><td>0</td><td>100</td>"
        "</tr></tbody></table>"
    )


@bounded
@given(text=adversarial)
def test_pasted_prices_are_read_or_refused(text):
    with contextlib.suppress(SearchInputError):
        prices_text_parse(text)


@bounded
@given(text=adversarial, wrap=st.sampled_from(["{}", "[{}]", "[[{}, 1]]", "[[1, {}]]"]))
def test_a_sketch_is_read_or_refused(text, wrap):
    with contextlib.suppress(SearchInputError):
        sketch_points_parse(text=wrap.format(text))


@bounded
@given(text=adversarial)
def test_a_kabutan_page_is_read_or_refused(text):
    for page in (text, _kabutan_page(text)):
        try:
            parse_daily_prices(page)
        except ParseError as error:
            assert len(str(error)) <= 1000


@bounded
@given(text=adversarial, field=st.sampled_from(["Date", "Code", "O", "C", "Vo", "AdjFactor"]))
def test_jquants_daily_rows_are_read_or_refused(text, field):
    row = {"Date": "2026-11-13", "Code": "72030", "O": 1, "H": 1, "L": 1, "C": 1, "Vo": 1}
    try:
        parse_daily_bars([{**row, field: text}] * 3)
    except ParseError as error:
        assert len(str(error)) <= 1000


@bounded
@given(text=adversarial, field=st.sampled_from(["Date", "Code", "CoName", "HolDiv", "O"]))
def test_jquants_master_calendar_and_index_rows_are_read_or_refused(text, field):
    row = {"Date": "2026-11-13", "Code": "72030", "CoName": "トヨタ", "HolDiv": "1"}
    row |= {"O": 1, "H": 1, "L": 1, "C": 1}
    for parse in (parse_master, parse_calendar, parse_index_bars):
        try:
            parse([{**row, field: text}])
        except ParseError as error:
            assert len(str(error)) <= 1000


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("7203.csv", "Date,Open,Hight,Low,Close,Volume,Adj Close\n2026-11-13,1,1,1,1,1,"),
        ("plain.csv", "code,date,open,high,low,close,volume\n7203,2026-11-13,1,1,1,1,"),
    ],
)
@bounded
@given(text=adversarial)
def test_a_price_file_is_read_or_refused(name, header, text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(header + text, encoding="utf-8")
        try:
            read_price_file(path)
        except FileFormatError as error:
            assert len(str(error)) <= 1000 + len(str(path))


@bounded
@given(text=adversarial)
def test_a_listing_file_is_read_or_refused(text):
    header = ",".join(["日付", *LISTING_COLUMNS.values()])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "listing.csv"
        path.write_text(f"{header}\n20261113,7203,{text},プライム,3700,,,,,\n", encoding="utf-8")
        try:
            read_listing_file(path)
        except FileFormatError as error:
            assert len(str(error)) <= 1000 + len(str(path))
