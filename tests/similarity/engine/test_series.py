"""The series container: its stored prefix sums, saved and loaded."""

import numpy as np

from similarity.engine import Market
from similarity.engine.series import PREFIX_STEP

from .conftest import random_walks


def test_prefix_sums_are_every_step_th_sum_of_the_centred_closes_and_their_squares():
    market = Market.from_series(random_walks(3, [9, 4, 3, 130]), ["A", "B", "C", "D"])
    for s in range(len(market)):
        values = np.asarray(market.closes32[market.offsets[s] : market.offsets[s + 1]], np.float64)
        sums = np.concatenate(([0.0], np.cumsum(values)))[::PREFIX_STEP]
        squares = np.concatenate(([0.0], np.cumsum(values * values)))[::PREFIX_STEP]
        stored = slice(market.prefix_offsets[s], market.prefix_offsets[s + 1])
        assert np.allclose(market.prefix1[stored], sums, rtol=1e-12, atol=1e-9)
        assert np.allclose(market.prefix2[stored], squares, rtol=1e-12, atol=1e-9)


def test_a_market_saved_before_prefix_sums_existed_loads_with_them(tmp_path):
    market = Market.from_series(random_walks(4, [50, 200]), ["A", "B"])
    market.save(tmp_path)
    for name in ("prefix_offsets", "prefix1", "prefix2"):
        (tmp_path / f"{name}.npy").unlink()
    loaded = Market.load(tmp_path)
    assert np.array_equal(loaded.prefix_offsets, market.prefix_offsets)
    assert np.array_equal(loaded.prefix1, market.prefix1)
    assert np.array_equal(loaded.prefix2, market.prefix2)
