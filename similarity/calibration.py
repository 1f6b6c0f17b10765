"""Writing the walk-forward calibration (see similarity/engine/walkforward.py for the method).

Entry point: ``calibration_compute(*, samples, lengths, horizons, k, seed) -> CalibrationRun``,
called by ``manage.py calibrate`` and the monthly Celery task.
"""

import dataclasses
import time
from collections.abc import Sequence

from django.db import transaction

from similarity.engine import (
    CALIBRATION_K,
    CALIBRATION_LENGTHS,
    DEFAULT_HORIZONS,
    calibration_table,
    draw_samples,
    market_calendar,
    sample_outcomes,
)
from similarity.models import CalibrationRun
from similarity.selectors import search_universe
from similarity.snapshot import snapshot_current

DEFAULT_SAMPLES = 500


def calibration_compute(
    *,
    samples: int = DEFAULT_SAMPLES,
    lengths: Sequence[int] = CALIBRATION_LENGTHS,
    horizons: Sequence[int] = DEFAULT_HORIZONS,
    k: int = CALIBRATION_K,
    seed: int | None = None,
) -> CalibrationRun:
    """Draw ``samples`` past patterns from the current snapshot (lengths in turn), predict each
    from the data before it, compare with what followed, and store the table."""
    started = time.perf_counter()
    snapshot = snapshot_current()
    market = snapshot.market
    lengths = sorted({int(m) for m in lengths})
    horizons = sorted({int(h) for h in horizons})
    seed = int(time.time()) if seed is None else int(seed)
    calendar = market_calendar(market)
    twins = search_universe(snapshot_id=snapshot.id, series_ids=market.ids).twins
    outcomes = []
    for series, end, length in draw_samples(market, samples, lengths, max(horizons), seed=seed):
        outcomes += sample_outcomes(
            market, series, end, length, horizons=horizons, k=k, calendar=calendar, twins=twins
        )
    table = [dataclasses.asdict(row) for row in calibration_table(outcomes)]
    with transaction.atomic():
        return CalibrationRun.objects.create(
            snapshot_id=snapshot.id,
            snapshot_date=snapshot.date,
            samples=len({(o.series, o.end, o.length) for o in outcomes}),
            lengths=lengths,
            horizons=horizons,
            k=k,
            seed=seed,
            elapsed_seconds=round(time.perf_counter() - started, 2),
            table=table,
        )
