from celery import shared_task

from alerts.tasks import alerts_dispatch
from similarity.calibration import DEFAULT_SAMPLES, calibration_compute
from similarity.snapshot import SnapshotMissing, snapshot_build, snapshot_current
from similarity.track_record import track_record_grade as grade


@shared_task(name="similarity.tasks.snapshot_rebuild")
def snapshot_rebuild() -> dict:
    """Rebuild the search snapshot from the database; the daily scrape calls it when it ends.

    When the data gain a new trading day, the shape alerts are checked against it.
    """
    try:
        previous = snapshot_current().date
    except SnapshotMissing:
        previous = None
    snapshot = snapshot_build()
    new_date = snapshot.date is not None and snapshot.date != previous
    if new_date:
        alerts_dispatch.delay()
    return {
        "id": snapshot.id,
        "date": snapshot.date.isoformat() if snapshot.date else None,
        "series": len(snapshot.market),
        "closes": snapshot.market.size,
        "alerts_dispatched": new_date,
    }


@shared_task(name="similarity.tasks.track_record_grade")
def track_record_grade() -> dict:
    """Grade the saved searches whose horizons have passed (nightly, Celery beat)."""
    return {"grades": grade()}


@shared_task(name="similarity.tasks.calibration_compute")
def calibration_compute_task(samples: int = DEFAULT_SAMPLES) -> dict:
    """Recompute the walk-forward calibration (monthly, Celery beat)."""
    run = calibration_compute(samples=samples)
    return {"id": run.pk, "samples": run.samples, "seconds": run.elapsed_seconds}
