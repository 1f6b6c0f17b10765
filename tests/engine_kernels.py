"""Compile the engine's kernels once, beside pytest-xdist's workers as they start.

numba compiles a kernel on its first call and keeps it in its on-disk cache (``cache=True``),
once per kind of argument (a market built in memory and one loaded from a snapshot are one kind:
both read-only). On a fresh clone that cache is empty, and every worker would compile the same
kernels at the same time on the machine's two cores (some 25 s of CPU each). The controller
starts two processes that run each path of the engine once on a small market (one the history
search's screen and exact stage, the other the rest: latest mode, the same-period search, the
base rate), and goes on: the workers start and build their test databases meanwhile, and wait for
both before their first test, so that they load what was compiled.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

# Set by the controller for its workers: the folder where each compiling process leaves a file
# when it ends.
READY_VARIABLE = "STOCKSITE_TEST_KERNELS_READY"


# The kernels in two halves, compiled in two processes side by side: the history search's screen
# and exact stage (most of the compile time), and everything else.
PARTS = ("history", "rest")


def engine_kernels_compile(part: str | None = None) -> None:
    """Run each path of the engine once on a small market (``part``: one of PARTS; None: all)."""
    from similarity.engine import BaselineIndex, Market

    rng = np.random.default_rng(0)
    n = 700
    days = np.busday_offset("2015-01-05", np.arange(n), "forward")
    series = [100 * np.exp(np.cumsum(rng.normal(0, 0.02, n))) for _ in range(8)]
    market = Market.from_series(series, [f"S{i}" for i in range(8)], [days] * 8)
    _paths(market, BaselineIndex.build(market), series, days, rng, part)


def _paths(market, index, series, days, rng, part) -> None:
    from similarity.engine import base_rate, search

    # The direct products, the block sums and the FFT screen.
    for m in (20, 60, 300):
        pattern = series[0][100 : 100 + m] * (1 + rng.normal(0, 0.01, m))
        own_days = (days[100], days[100 + m - 1])
        if part in (None, "history"):
            search(market, pattern, k=5)
            search(market, pattern, k=5, exclude=[("S1", 10, 200)], date_from=days[50])
            search(market, pattern, k=5, date_to=days[-50], exclude_period=own_days)
        if part in (None, "rest"):
            search(market, pattern, k=5, mode="latest")
            search(market, pattern, k=5, only_period=own_days)
            base_rate(market, m, [5, 20], index=index)
    if part in (None, "history"):
        search(market, series[0][100:160], k=5, stretch=True)


def engine_kernels_start(folder: Path) -> list[subprocess.Popen]:
    """Compile in processes of their own, each of which writes a file in ``folder`` when it ends
    (done or not); the processes started after this call (the workers) find ``folder`` in their
    environment."""
    os.environ[READY_VARIABLE] = str(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [sys.executable, "-m", "tests.engine_kernels", part, str(folder / part)],
            cwd=Path(__file__).resolve().parent.parent,
        )
        for part in PARTS
    ]


def engine_kernels_wait(timeout: float = 600.0) -> None:
    """Wait for the controller's compiling processes, if there are any. Should one fail or take
    too long, its kernels compile on their first call here, as they would without it."""
    folder = os.environ.get(READY_VARIABLE)
    if not folder:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all((Path(folder) / part).exists() for part in PARTS):
            return
        time.sleep(0.1)


if __name__ == "__main__":
    try:
        engine_kernels_compile(sys.argv[1])
    finally:
        Path(sys.argv[2]).touch()
