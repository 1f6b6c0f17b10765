from celery import shared_task

from billing.services import subscriptions_reconcile


@shared_task(name="billing.subscriptions_reconcile")
def subscriptions_reconcile_task() -> dict:
    """Re-read every running subscription from Stripe: webhooks can be lost."""
    return subscriptions_reconcile()
