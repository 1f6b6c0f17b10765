"""A search's charge against the per-minute CPU budget follows the work it causes: the search,
the same-period one and the base rate, exact or read from the snapshot's index. The charge is
compared with measured CPU by benchmarks/search_cost_bench.py, not here."""

import numpy as np
import pytest

from billing.entitlements import SearchCostExceeded
from similarity import limits
from similarity.services import search_cost_estimate, search_run
from similarity.snapshot import snapshot_current
from similarity.validation import search_options_clean

pytestmark = pytest.mark.django_db

WAVE = [100, 104, 101, 107, 111, 108, 114, 118, 113, 121, 125, 122, 128, 131, 127, 135]
PRICES = {"source": "prices", "prices": WAVE}
PRIME = {"7974", "7203", "6758", "9984", "8306"}


def _charge(**options) -> float:
    options = search_options_clean(options=options)
    snapshot = snapshot_current()
    mask = None
    if options["segment"]:
        from similarity.selectors import search_universe

        universe = search_universe(snapshot_id=snapshot.id, series_ids=snapshot.market.ids)
        mask = universe.mask(segment=options["segment"], sector="", min_turnover=0)
    return search_cost_estimate(
        snapshot=snapshot,
        mask=mask,
        k=options["k"],
        horizons=options["horizons"],
        options=options,
        length=len(WAVE),
        same_period=False,
    )


def test_horizons_outside_the_index_are_charged_for_their_exact_base_rate(search_market):
    assert snapshot_current().baseline is not None

    indexed, exact = _charge(horizons=[5, 20, 60]), _charge(horizons=[1, 2, 3, 4, 249])

    market = snapshot_current().market
    assert exact - indexed == pytest.approx(
        market.size / 1e6 * limits.BASE_RATE_EXACT_MS_PER_MILLION_CLOSES * 5
        - limits.BASE_RATE_INDEXED_MS
    )


def test_a_segment_is_charged_for_its_exact_base_rate_at_every_horizon(search_market):
    prime = _charge(segment="プライム（内国株式）")

    lengths = np.diff(snapshot_current().market.offsets)
    codes = snapshot_current().market.ids
    closes = sum(int(n) for code, n in zip(codes, lengths, strict=True) if code in PRIME)
    exact_part = closes / 1e6 * limits.BASE_RATE_EXACT_MS_PER_MILLION_CLOSES * 3
    assert prime == pytest.approx(
        exact_part
        + limits.search_cost_ms(
            closes=closes, series=len(PRIME), length=len(WAVE), k=10, stretch=False, mode="history"
        )
    )


def test_a_search_whose_exact_base_rate_exceeds_the_budget_is_refused(
    search_market, pro_user, monkeypatch
):
    # The test market is a few stocks: the index's few ms would outweigh their exact base rate.
    monkeypatch.setattr(limits, "BASE_RATE_INDEXED_MS", 0.0)
    monkeypatch.setattr(limits, "SEARCH_COST_MS_PER_MINUTE", 1.5 * _charge())

    with pytest.raises(SearchCostExceeded):
        search_run(user=pro_user, spec=PRICES, options={"horizons": [1, 2, 3, 4, 249]})
    saved = search_run(user=pro_user, spec=PRICES, options={})

    assert saved.match_count > 0


def test_latest_mode_is_not_charged_for_a_base_rate(search_market):
    assert _charge(mode="latest", horizons=[1, 2, 3]) == _charge(mode="latest")


@pytest.fixture
def tripling_market(db, settings, tmp_path):
    """Three stocks that rise by 30% a day for five days and fall back, again and again: a sixth
    of their 5-day returns are above +200%, in the index's open-ended last bin, so the index
    cannot give the base rate's 90th percentile and the base rate is counted exactly."""
    import datetime as dt

    from market.bars import Bar
    from market.models import Stock
    from market.services.daily_bars import daily_bars_upsert
    from similarity.snapshot import snapshot_build

    settings.SIMILARITY_SNAPSHOT_DIR = tmp_path / "snapshot"
    days = [dt.date(2016, 1, 4) + dt.timedelta(days=d) for d in range(900)]
    days = [day for day in days if day.weekday() < 5][:600]
    for i, code in enumerate(("1301", "1332", "1333")):
        stock = Stock.objects.create(code=code, name=f"三倍{i}", segment="プライム（内国株式）")
        closes = [100 * 1.3 ** (d % 6) * (1 + 0.01 * np.sin(d * (i + 1))) for d in range(len(days))]
        daily_bars_upsert(
            stock=stock,
            bars=[
                Bar(date=day, open=c, high=c, low=c, close=c, volume=10_000, adj_close=c)
                for day, c in zip(days, closes, strict=True)
            ],
        )
    return snapshot_build()


def test_a_base_rate_the_index_could_not_give_is_charged_after_the_search(
    tripling_market, pro_user, monkeypatch
):
    from similarity.engine import base_rate_counted, base_rate_exact_horizons

    snapshot = snapshot_current()
    market, index = snapshot.market, snapshot.baseline
    assert index is not None and 5 in index.horizons
    # Not foreseen (the index holds the horizon, the whole market is searched) but counted.
    assert base_rate_exact_horizons(market, [5], index=index) == []
    assert base_rate_counted(market, len(WAVE), [5], index=index).exact_horizons == [5]
    monkeypatch.setattr(limits, "BASE_RATE_INDEXED_MS", 0.0)
    foreseen = _charge(horizons=[5])
    exact = limits.base_rate_exact_ms(closes=market.size, horizons=1)
    assert exact > foreseen
    # Two searches fit in the budget as charged before they run, not with their exact base rate.
    monkeypatch.setattr(limits, "SEARCH_COST_MS_PER_MINUTE", 2 * foreseen + exact / 2)

    saved = search_run(user=pro_user, spec=PRICES, options={"horizons": [5]})
    with pytest.raises(SearchCostExceeded):
        search_run(user=pro_user, spec=PRICES, options={"horizons": [5]})

    assert saved.result["stats"][0]["baseline"]["count"] > 0
