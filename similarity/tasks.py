from celery import shared_task

from similarity.calibration import DEFAULT_SAMPLES, calibration_compute
from similarity.signals import snapshot_date_advanced
from similarity.snapshot import SnapshotMissing, snapshot_build, snapshot_current
from similarity.track_record import track_record_grade as grade


@shared_task(name="similarity.tasks.snapshot_rebuild")
def snapshot_rebuild() -> dict:
    """Rebuild the search snapshot from the database when the stored prices change.

    When the data gain a new trading day, snapshot_date_advanced tells the apps above.
    """
    try:
        previous = snapshot_current().date
    except SnapshotMissing:
        previous = None
    snapshot = snapshot_build()
    new_date = snapshot.date is not None and snapshot.date != previous
    if new_date:
        snapshot_date_advanced.send(sender=snapshot_rebuild, date=snapshot.date)
    return {
        "id": snapshot.id,
        "date": snapshot.date.isoformat() if snapshot.date else None,
        "series": len(snapshot.market),
        "closes": snapshot.market.size,
        "date_advanced": new_date,
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
