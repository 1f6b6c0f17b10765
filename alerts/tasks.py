"""Celery tasks of the alerts: thin, they take ids and call services."""

import logging

from celery import group, shared_task
from django.conf import settings

from alerts.line.services import line_event_process
from alerts.runs import alert_batches, alert_deliveries_send, alerts_check
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


def _backoff(retries: int, asked: float | None = None) -> float:
    """The wait before retry number `retries` + 1: doubling from ALERTS_MAIL_RETRY_SECONDS, and
    never shorter than what the provider asked for (Retry-After)."""
    return max(settings.ALERTS_MAIL_RETRY_SECONDS * 2**retries, asked or 0.0)


@shared_task(bind=True, name="alerts.tasks.alerts_check_batch", max_retries=None)
def alerts_check_batch(self, user_ids: list[int]) -> dict:
    """Check these users' due alerts, then send their digests on each chosen channel.

    Safe to run twice: checked alerts are skipped and sent deliveries are not sent again. Acked
    late (CELERY_TASK_ACKS_LATE), so a worker killed mid-batch leaves the message to be delivered
    again. A delivery that fails (mail or LINE) is retried with back-off, honouring LINE's
    Retry-After, up to ALERTS_MAIL_RETRIES times; a channel that fails never holds back the other.
    """
    checked = alerts_check(user_ids=user_ids)
    sent = alert_deliveries_send(user_ids=user_ids)
    result = {
        "date": checked.data_date.isoformat() if checked.data_date else None,
        "alerts": checked.alerts,
        "hits": checked.hits,
        "sent": sent.sent,
        "failed": sent.failed,
    }
    if sent.failed and not self.request.is_eager:
        if self.request.retries < settings.ALERTS_MAIL_RETRIES:
            raise self.retry(countdown=_backoff(self.request.retries, sent.retry_after))
        logger.error("alert digests of users %s still failing; left for alerts_run", user_ids)
    return result


@shared_task(bind=True, name="alerts.tasks.line_event_handle", max_retries=None)
def line_event_handle(self, event_id: int) -> str | None:
    """Handle one stored LINE webhook event; when LINE cannot be reached, retry with back-off up
    to ALERTS_MAIL_RETRIES times. Safe to run twice: a processed event is skipped."""
    outcome = line_event_process(event_id=event_id)
    if outcome.retry and not self.request.is_eager:
        if self.request.retries < settings.ALERTS_MAIL_RETRIES:
            raise self.retry(countdown=_backoff(self.request.retries, outcome.retry_after))
        logger.error("LINE event %s still failing after retries", event_id)
    return outcome.state
