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
