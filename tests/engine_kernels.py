"""Compile the engine's kernels once, beside pytest-xdist's workers as they start.

numba compiles a kernel on its first call and keeps it in its on-disk cache (``cache=True``). On
a fresh clone that cache is empty, and every worker would compile the same kernels at the same
time on the machine's two cores (some 20 s of CPU each). The controller starts one process that
runs each path of the engine once on a small market (the search of each mode and screen, with
every kind of filter, and the base rate), and goes on: the workers start and build their test
databases meanwhile, and wait for that process before their first test, so that they load what
it compiled.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

# Set by the controller for its workers: the file the compiling process writes when it ends.
READY_VARIABLE = "STOCKSITE_TEST_KERNELS_READY"


def engine_kernels_compile() -> None:
    from similarity.engine import BaselineIndex, Market, base_rate, search

    rng = np.random.default_rng(0)
    n = 700
    days = np.busday_offset("2015-01-05", np.arange(n), "forward")
    series = [100 * np.exp(np.cumsum(rng.normal(0, 0.02, n))) for _ in range(8)]
    market = Market.from_series(series, [f"S{i}" for i in range(8)], [days] * 8)
    index = BaselineIndex.build(market)
    # The direct products, the block sums and the FFT screen.
    for m in (20, 60, 300):
        pattern = series[0][100 : 100 + m] * (1 + rng.normal(0, 0.01, m))
        own_days = (days[100], days[100 + m - 1])
        search(market, pattern, k=5)
        search(market, pattern, k=5, mode="latest")
        search(market, pattern, k=5, exclude=[("S1", 10, 200)], date_from=days[50])
        search(market, pattern, k=5, date_to=days[-50], exclude_period=own_days)
        search(market, pattern, k=5, only_period=own_days)
        base_rate(market, m, [5, 20], index=index)
    search(market, series[0][100:160], k=5, stretch=True)


def engine_kernels_start(ready: Path) -> subprocess.Popen:
    """Compile in a process of its own, which writes ``ready`` when it ends (done or not); the
    processes started after this call (the workers) find ``ready`` in their environment."""
    os.environ[READY_VARIABLE] = str(ready)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.engine_kernels", str(ready)],
        cwd=Path(__file__).resolve().parent.parent,
    )


def engine_kernels_wait(timeout: float = 600.0) -> None:
    """Wait for the controller's compiling process, if there is one. Should it fail or take too
    long, the kernels compile on their first call here, as they would without it."""
    ready = os.environ.get(READY_VARIABLE)
    if not ready:
        return
    deadline = time.monotonic() + timeout
    while not Path(ready).exists() and time.monotonic() < deadline:
        time.sleep(0.1)


if __name__ == "__main__":
    try:
        engine_kernels_compile()
    finally:
        Path(sys.argv[1]).touch()
