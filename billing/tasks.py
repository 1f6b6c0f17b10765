from celery import shared_task

from billing.subscriptions import stripe_events_purge, subscriptions_reconcile


@shared_task(name="billing.stripe_events_purge")
def stripe_events_purge_task() -> int:
    """Daily: webhook payloads older than the retention period lose their personal data."""
    return stripe_events_purge()


@shared_task(name="billing.subscriptions_reconcile")
def subscriptions_reconcile_task() -> dict:
    """Re-read every running subscription from Stripe: webhooks can be lost."""
    return subscriptions_reconcile()
