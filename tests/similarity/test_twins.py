"""An ETF and its leveraged or inverse twin are one market episode, end to end: the underlying
comes from the exchange's list through the listing import, reaches the search's universe, and
groups the twins' overlapping matches in the result and on the page."""

import dataclasses

import numpy as np
import pytest

from market.exchanges.tse.files import ListingRow
from market.models import Stock
from market.services.daily_bars import daily_bars_upsert
from market.services.listing import stock_listing_upsert
from similarity import selectors
from similarity.engine import episodes
from similarity.services import search_run
from similarity.snapshot import snapshot_build, snapshot_current

from .conftest import _bars, market_load

LEVERAGED = ListingRow(
    code="1570",
    name="ＮＥＸＴ　ＦＵＮＤＳ　日経平均レバレッジ・インデックス連動型上場投信",
    segment="ETF・ETN",
)
PATTERN = {"source": "stock", "code": "1321", "from": "2016-06-01", "to": "2016-08-31"}


@pytest.fixture
def twin_market(db, settings, tmp_path, shared_data_dir):
    """The Nikkei 225 ETF (1321) with two stocks, and its leveraged twin (1570) as the
    exchange's list names it."""
    settings.SIMILARITY_SNAPSHOT_DIR = tmp_path / "snapshot"
    stocks = market_load(shared_data_dir, codes=("1321", "7203", "6758"))
    stocks["1321"].underlying = "nikkei225"
    stocks["1321"].save()
    stock_listing_upsert(rows=[LEVERAGED])
    leveraged = Stock.objects.get(code="1570")
    daily_bars_upsert(stock=leveraged, bars=_bars(shared_data_dir / "jp_daily" / "1570.csv"))
    snapshot_build()
    return stocks


def test_the_listing_names_the_underlying_and_the_universe_pairs_the_twins(twin_market):
    assert Stock.objects.get(code="1570").underlying == "nikkei225"
    snapshot = snapshot_current()
    universe = selectors.search_universe(snapshot_id=snapshot.id, series_ids=snapshot.market.ids)
    twins = dict(zip(universe.codes, universe.twins.tolist(), strict=True))

    assert twins["1321"] == twins["1570"] >= 0
    assert twins["7203"] == twins["6758"] == -1


def test_overlapping_twin_matches_are_one_episode(twin_market, pro_user):
    saved = search_run(user=pro_user, spec=PATTERN, options={"k": 60})
    matches = saved.result["matches"]
    market = snapshot_current().market
    series = [market.index_of(match["code"]) for match in matches]
    first = [np.datetime64(match["start_date"]) for match in matches]
    last = [np.datetime64(match["end_date"]) for match in matches]
    twins = np.full(len(market), -1)
    twins[[market.index_of("1321"), market.index_of("1570")]] = 0

    expected = episodes(series, first, last, twins=twins) + 1

    assert [match["episode"] for match in matches] == expected.tolist()
    assert {"1321", "1570"} <= {match["code"] for match in matches}
    for i, a in enumerate(matches):
        for b in matches[i + 1 :]:
            overlap = a["start_date"] <= b["end_date"] and b["start_date"] <= a["end_date"]
            if overlap and {a["code"], b["code"]} <= {"1321", "1570"}:
                assert a["episode"] == b["episode"]


def test_the_page_groups_an_episode_and_says_how_many_share_it(twin_market, pro_user, client):
    saved = search_run(user=pro_user, spec=PATTERN, options={"k": 60})
    sizes = {}
    for match in saved.result["matches"]:
        sizes[match["episode"]] = sizes.get(match["episode"], 0) + 1
    shared = next(episode for episode, size in sizes.items() if size > 1)
    client.force_login(pro_user)

    page = client.get(f"/search/results/{saved.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'data-sort="episode"' in page
    assert f'data-episode="{shared}"' in page
    assert f"({sizes[shared]} matches)" in page
    assert "an ETF and its leveraged or inverse twin" in page


SHIFT = 40  # trading days: less than half of the pattern's 64


@pytest.fixture
def shifted_twin_market(db, settings, tmp_path, shared_data_dir):
    """1321 and a twin that is 1321 itself, SHIFT trading days later: each of 1321's matches
    has its copy in the twin overlapping it by less than half, so only the twin rule joins
    them."""
    settings.SIMILARITY_SNAPSHOT_DIR = tmp_path / "snapshot"
    stocks = market_load(shared_data_dir, codes=("1321", "7203"))
    stocks["1321"].underlying = "nikkei225"
    stocks["1321"].save()
    stock_listing_upsert(rows=[LEVERAGED])
    bars = _bars(shared_data_dir / "jp_daily" / "1321.csv")
    copy = [
        dataclasses.replace(bar, date=later.date)
        for bar, later in zip(bars[:-SHIFT], bars[SHIFT:], strict=True)
    ]
    daily_bars_upsert(stock=Stock.objects.get(code="1570"), bars=copy)
    snapshot_build()
    return stocks


def test_the_twin_rule_joins_what_the_time_rule_keeps_apart(shifted_twin_market, pro_user):
    saved = search_run(user=pro_user, spec=PATTERN, options={"k": 20})
    matches = saved.result["matches"]
    market = snapshot_current().market
    series = [market.index_of(match["code"]) for match in matches]
    first = [np.datetime64(match["start_date"]) for match in matches]
    last = [np.datetime64(match["end_date"]) for match in matches]

    apart = episodes(series, first, last, twins=None) + 1
    joined = [match["episode"] for match in matches]

    assert len(set(joined)) < len(set(apart.tolist()))
    assert saved.result["stats"][0]["count"] <= len(set(joined))
    copies = [
        (a, b)
        for a in matches
        for b in matches
        if a["code"] == "1321"
        and b["code"] == "1570"
        and a["start_date"] < b["start_date"] <= a["end_date"]
    ]
    assert copies and all(a["episode"] == b["episode"] for a, b in copies)
