"""The series container: its stored prefix sums, saved and loaded."""

import pickle

import numpy as np
import pytest

from similarity.engine import BaselineIndex, Market, base_rate, search
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


def _days(series):
    return [np.busday_offset("2015-01-05", np.arange(len(s)), "forward") for s in series]


def _compiled_signatures() -> int:
    """How many versions numba has compiled of the engine's kernels, in this process."""
    import importlib
    import pkgutil

    from numba.core.registry import CPUDispatcher

    import similarity.engine as engine

    count = 0
    for module in pkgutil.iter_modules(engine.__path__):
        for value in vars(importlib.import_module(f"similarity.engine.{module.name}")).values():
            if isinstance(value, CPUDispatcher):
                count += len(value.signatures)
    return count


def test_a_market_and_its_index_are_read_only_in_memory_as_when_loaded(tmp_path):
    series = random_walks(5, [300, 420, 80])
    market = Market.from_series(series, ["A", "B", "C"], _days(series))
    index = BaselineIndex.build(market)
    market.save(tmp_path)
    index.save(tmp_path)
    # Built, loaded, and unpickled (as a process pool's worker gets its arguments).
    for built, loaded in (
        (market, Market.load(tmp_path)),
        (index, BaselineIndex.load(tmp_path)),
    ):
        unpickled = pickle.loads(pickle.dumps(built))
        for name, value in vars(built).items():
            if isinstance(value, np.ndarray):
                assert not value.flags.writeable, name
                assert not getattr(loaded, name).flags.writeable, name
                assert not getattr(unpickled, name).flags.writeable, name
                assert np.array_equal(getattr(unpickled, name), value), name
    with pytest.raises(ValueError, match="read-only"):
        market.closes[0] = 1.0


def test_a_loaded_market_is_searched_with_the_kernels_compiled_for_one_in_memory(tmp_path):
    """numba compiles a kernel once per kind of argument: a loaded market's read-only memory maps
    and a market built in memory are one kind, so a web process compiles each kernel once."""
    series = random_walks(6, [400, 520, 260])
    market = Market.from_series(series, ["A", "B", "C"], _days(series))
    index = BaselineIndex.build(market)
    market.save(tmp_path)
    index.save(tmp_path)
    pattern = series[1][100:160]

    def every_path(searched, its_index):
        return (
            search(searched, pattern, k=3),
            search(searched, pattern, k=3, mode="latest"),
            base_rate(searched, 60, [5, 20], index=its_index),
        )

    in_memory = every_path(market, index)
    compiled = _compiled_signatures()
    loaded = every_path(Market.load(tmp_path), BaselineIndex.load(tmp_path))
    assert _compiled_signatures() == compiled
    assert [(m.series_id, m.start) for m in loaded[0]] == [
        (m.series_id, m.start) for m in in_memory[0]
    ]
