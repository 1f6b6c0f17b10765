from celery import shared_task

from similarity.snapshot import snapshot_build


@shared_task(name="similarity.tasks.snapshot_rebuild")
def snapshot_rebuild() -> dict:
    """Rebuild the search snapshot from the database; the daily scrape calls it when it ends."""
    snapshot = snapshot_build()
    return {
        "id": snapshot.id,
        "date": snapshot.date.isoformat() if snapshot.date else None,
        "series": len(snapshot.market),
        "closes": snapshot.market.size,
    }
