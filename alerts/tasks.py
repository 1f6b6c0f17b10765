"""Celery tasks of the alerts: thin, they take ids and call services."""

import logging

from celery import group, shared_task
from django.conf import settings

from alerts.runs import alert_batches, alert_digests_send, alerts_check
from similarity.snapshot import snapshot_current

logger = logging.getLogger(__name__)


@shared_task(name="alerts.tasks.alerts_dispatch")
def alerts_dispatch() -> dict:
    """Fan the due alerts out in batches of about ALERTS_BATCH_SIZE, one user's alerts together.

    The snapshot rebuild queues it when the data gain a new trading day.
    """
    data_date = snapshot_current().date
    if data_date is None:
        return {"batches": 0}
    batches = alert_batches(data_date=data_date, size=max(1, settings.ALERTS_BATCH_SIZE))
    if batches:
        group(alerts_check_batch.s(user_ids) for user_ids in batches)()
    return {"date": data_date.isoformat(), "batches": len(batches)}


@shared_task(bind=True, name="alerts.tasks.alerts_check_batch", max_retries=None)
def alerts_check_batch(self, user_ids: list[int]) -> dict:
    """Check these users' due alerts, then send their digests.

    Safe to run twice: checked alerts are skipped and sent digests are not sent again. Acked late
    (CELERY_TASK_ACKS_LATE), so a worker killed mid-batch leaves the message to be delivered
    again. A digest that fails to send is retried with back-off up to ALERTS_MAIL_RETRIES times.
    """
    checked = alerts_check(user_ids=user_ids)
    mails = alert_digests_send(user_ids=user_ids)
    result = {
        "date": checked.data_date.isoformat() if checked.data_date else None,
        "alerts": checked.alerts,
        "hits": checked.hits,
        "sent": mails.sent,
        "failed": mails.failed,
    }
    if mails.failed and not self.request.is_eager:
        if self.request.retries < settings.ALERTS_MAIL_RETRIES:
            raise self.retry(countdown=settings.ALERTS_MAIL_RETRY_SECONDS * 2**self.request.retries)
        logger.error("alert digests of users %s still failing; left for alerts_run", user_ids)
    return result
