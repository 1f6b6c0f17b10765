"""How the apps react to each other: wired here, in the project layer, where every app is visible.

A lower app never imports a higher one; when something happens that a higher app must act on,
the lower app sends one of its signals and this module connects the next step:

    market      prices_changed          -> similarity.tasks.snapshot_rebuild (queued)
    similarity  snapshot_date_advanced  -> alerts.tasks.alerts_dispatch (queued)
    billing     entitlements_changed    -> alerts.services.alerts_plan_limit_apply
    accounts    account_deleting        -> billing.services.billing_customer_erase

The nightly pipeline is these links in a row: Celery beat runs market.sync_market after the
close; its run commits new bars, the snapshot is rebuilt, and a new trading day checks the alerts.
"""

from accounts.models import User
from accounts.signals import account_deleting
from alerts.services import alerts_plan_limit_apply
from alerts.tasks import alerts_dispatch
from billing.services import billing_customer_erase
from billing.signals import entitlements_changed
from market.signals import prices_changed
from similarity.signals import snapshot_date_advanced
from similarity.tasks import snapshot_rebuild


def _snapshot_rebuild(**kwargs) -> None:
    snapshot_rebuild.delay()


def _alerts_dispatch(**kwargs) -> None:
    alerts_dispatch.delay()


def _alerts_plan_limit_apply(*, user: User, **kwargs) -> None:
    alerts_plan_limit_apply(user=user)


def _billing_customer_erase(*, user: User, **kwargs) -> None:
    billing_customer_erase(user=user)


def connect() -> None:
    """Connect every link once per process (StocksiteConfig.ready calls it)."""
    prices_changed.connect(_snapshot_rebuild, dispatch_uid="pipeline.snapshot_rebuild")
    snapshot_date_advanced.connect(_alerts_dispatch, dispatch_uid="pipeline.alerts_dispatch")
    entitlements_changed.connect(
        _alerts_plan_limit_apply, dispatch_uid="pipeline.alerts_plan_limit_apply"
    )
    account_deleting.connect(_billing_customer_erase, dispatch_uid="pipeline.billing_erase")
