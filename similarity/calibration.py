"""Writing the walk-forward calibration and the forecast it learns (see
similarity/engine/walkforward.py for the method).

Entry point: ``calibration_compute(*, samples, lengths, horizons, k, seed, demo, interval) ->
CalibrationRun``, called by ``manage.py calibrate``, the monthly Celery task and ``make run``
(the demo market, a smaller sample marked ``demo``). The run stores the table; its
ForecastModel stores the parameters, learned on every sample, that searches apply from then on.
Each interval (daily, weekly, monthly closes) is calibrated on its own closes, lengths and
horizons, and its forecast serves the searches of that interval only.
"""

import time
from collections.abc import Sequence

import numpy as np
from django.db import transaction

from similarity import limits
from similarity.engine import (
    CALIBRATION_K,
    calibration_draws,
    calibration_table,
    draw_samples,
    final_recency,
    forecast_fit,
    market_calendar,
    pattern_rows,
    period_ends,
    samples_of,
    scored,
    usable,
    walk_forward_predict,
)
from similarity.models import CalibrationRun, ForecastModel
from similarity.selectors import base_excess_sample, market_benchmark, search_universe
from similarity.snapshot import snapshot_current

DEFAULT_SAMPLES = 3000
DEMO_SAMPLES = 300


def calibration_compute(
    *,
    samples: int = DEFAULT_SAMPLES,
    lengths: Sequence[int] | None = None,
    horizons: Sequence[int] | None = None,
    k: int = CALIBRATION_K,
    seed: int | None = None,
    demo: bool = False,
    interval: str = "day",
) -> CalibrationRun:
    """Draw past patterns from the current snapshot's closes of ``interval`` (lengths in turn,
    default those of limits.CALIBRATION_LENGTHS_BY_INTERVAL, horizons the interval's defaults;
    ``samples`` of them scored after the burn-in, see walkforward.BURN_IN), record each as known
    before it began, forecast each walk-forward, store the table and the forecast parameters
    learned from all of them."""
    started = time.perf_counter()
    lengths = lengths or limits.CALIBRATION_LENGTHS_BY_INTERVAL[interval]
    horizons = horizons or limits.DEFAULT_HORIZONS_BY_INTERVAL[interval]
    snapshot = snapshot_current().at(interval)
    market = snapshot.market
    lengths = sorted({int(m) for m in lengths})
    horizons = sorted({int(h) for h in horizons})
    seed = int(time.time()) if seed is None else int(seed)
    calendar = market_calendar(market)
    if interval != "day":  # one date a week or month, as the search's (services._calendar)
        calendar = calendar[period_ends(calendar, interval)]
    twins = search_universe(snapshot_id=snapshot.id, series_ids=market.ids).twins
    benchmark = market_benchmark(snapshot=snapshot)
    excess = base_excess_sample(snapshot=snapshot)
    rng = np.random.default_rng(seed)
    rows = []
    history = limits.CALIBRATION_MIN_HISTORY_BY_INTERVAL[interval]
    drawn = draw_samples(
        market, calibration_draws(samples), lengths, max(horizons), seed=seed, min_history=history
    )
    for series, end, length in drawn:
        rows += pattern_rows(
            market,
            series,
            end,
            length,
            horizons,
            k=k,
            calendar=calendar,
            benchmark=benchmark,
            excess=excess,
            rng=rng,
            twins=twins,
            index=snapshot.baseline,
        )
    rows = usable(rows)
    quantiles, _weights = walk_forward_predict(rows, lengths, horizons)
    params = forecast_fit(samples_of(rows), lengths, horizons, final_recency(rows))
    keep = scored(rows)
    rows = [row for row, kept in zip(rows, keep, strict=True) if kept]
    table = calibration_table(rows, quantiles[keep], params)
    with transaction.atomic():
        run = CalibrationRun.objects.create(
            snapshot_id=snapshot.id,
            snapshot_date=snapshot.date,
            samples=len({(r.series, r.end, r.length) for r in rows}),
            lengths=lengths,
            horizons=horizons,
            k=k,
            seed=seed,
            elapsed_seconds=round(time.perf_counter() - started, 2),
            table=table,
            demo=demo,
            interval=interval,
        )
        ForecastModel.objects.create(
            calibration=run, snapshot_date=snapshot.date, params=params.to_json()
        )
    return run
