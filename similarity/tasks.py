from celery import shared_task

from similarity.calibration import DEFAULT_SAMPLES, calibration_compute
from similarity.signals import snapshot_date_advanced
from similarity.snapshot import (
    SnapshotMissing,
    snapshot_build,
    snapshot_current,
    snapshot_publish,
    snapshot_pull,
)
from similarity.snapshot_store import SnapshotStoreError, store_from_settings
from similarity.track_record import track_record_grade as grade


@shared_task(name="similarity.tasks.snapshot_rebuild")
def snapshot_rebuild() -> dict:
    """Rebuild the search snapshot from the database when the stored prices change.

    With a snapshot store configured, the new snapshot is then published for the other hosts
    (its own task, retried while the store is unreachable). When the data gain a new trading
    day, snapshot_date_advanced tells the apps above.
    """
    try:
        previous = snapshot_current().date
    except SnapshotMissing:
        previous = None
    snapshot = snapshot_build()
    publishing = store_from_settings() is not None
    if publishing:
        snapshot_publish_task.delay()
    new_date = snapshot.date is not None and snapshot.date != previous
    if new_date:
        snapshot_date_advanced.send(sender=snapshot_rebuild, date=snapshot.date)
    return {
        "id": snapshot.id,
        "date": snapshot.date.isoformat() if snapshot.date else None,
        "series": len(snapshot.market),
        "closes": snapshot.market.size,
        "date_advanced": new_date,
        "publishing": publishing,
    }


@shared_task(
    name="similarity.tasks.snapshot_publish",
    autoretry_for=(SnapshotStoreError,),
    retry_backoff=60,
    retry_backoff_max=30 * 60,
    max_retries=8,
)
def snapshot_publish_task() -> dict:
    """Upload this host's current snapshot to the store, unless it is there already."""
    snapshot = snapshot_current()
    manifest = snapshot_publish(snapshot)
    return {"id": snapshot.id, "bytes": manifest.size if manifest else 0}


@shared_task(
    name="similarity.tasks.snapshot_pull",
    autoretry_for=(SnapshotStoreError,),
    retry_backoff=30,
    max_retries=3,
)
def snapshot_pull_task() -> dict:
    """Make the store's newest snapshot current on the host of the worker that runs it."""
    pull = snapshot_pull()
    return {"status": pull.status, "id": pull.id, "bytes": pull.bytes}


@shared_task(name="similarity.tasks.track_record_grade")
def track_record_grade() -> dict:
    """Grade the saved searches whose horizons have passed (nightly, Celery beat)."""
    return {"grades": grade()}


@shared_task(name="similarity.tasks.calibration_compute")
def calibration_compute_task(samples: int = DEFAULT_SAMPLES) -> dict:
    """Recompute the walk-forward calibration of each interval: daily, weekly and monthly
    closes (monthly, Celery beat)."""
    runs = [calibration_compute(samples=samples, interval=i) for i in ("day", "week", "month")]
    return {
        "id": runs[0].pk,
        "samples": runs[0].samples,
        "seconds": round(sum(run.elapsed_seconds for run in runs), 2),
        "intervals": {run.interval: run.pk for run in runs},
    }
