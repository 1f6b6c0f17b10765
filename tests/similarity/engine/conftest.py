"""Markets of the engine's tests: random walks and a slice of real closes, no database."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from similarity.engine import Market

# Real closes: a few TSE issues with splits and trading halts (see shared/data/README.md).
JP_CODES = ("8306", "1605", "9984", "6758", "7203", "4689")
JP_SLICE = 1200


def jp_daily_dir() -> Path:
    # SHARED_DATA_DIR as for tests/conftest.py's shared_data_dir (a worktree has no sibling).
    default = Path(__file__).resolve().parents[3].parent / "shared" / "data"
    return Path(os.environ.get("SHARED_DATA_DIR", default)) / "jp_daily"


def random_walks(seed: int, lengths) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        rng.uniform(5, 500) * np.exp(np.cumsum(rng.standard_t(4, int(n)) * rng.uniform(0.01, 0.03)))
        for n in lengths
    ]


@pytest.fixture(scope="session")
def walk_series() -> list[np.ndarray]:
    lengths = [600, 45, 300, 520, 260, 4, 480, 350, 600, 90, 410, 255]
    return random_walks(12345, lengths)


@pytest.fixture(scope="session")
def walk_market(walk_series) -> Market:
    return Market.from_series(walk_series, [f"W{i:02d}" for i in range(len(walk_series))])


@pytest.fixture(scope="session")
def jp_series() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    folder = jp_daily_dir()
    if not folder.is_dir():
        pytest.skip(f"real market data not found at {folder}")
    out = {}
    for code in JP_CODES:
        frame = pd.read_csv(folder / f"{code}.csv")
        closes = frame["Adj Close"].to_numpy(dtype=np.float64)
        dates = pd.to_datetime(frame["Date"], format="%Y/%m/%d").to_numpy().astype("datetime64[D]")
        # A slice from the middle keeps the grid fast; it holds splits and flat stretches.
        mid = max(0, len(closes) // 2 - JP_SLICE // 2)
        out[code] = (closes[mid : mid + JP_SLICE], dates[mid : mid + JP_SLICE])
    return out


@pytest.fixture(scope="session")
def jp_market(jp_series) -> Market:
    codes = list(jp_series)
    return Market.from_series(
        [jp_series[c][0] for c in codes], codes, dates=[jp_series[c][1] for c in codes]
    )
