"""Shape alerts: the daily run. Tasks and the alerts_run command call these.

    alerts_check(*, user_ids=None)                  every due alert against the current snapshot
    alert_digests_send(*, user_ids=None)            the day's mails, each at most once

Running is idempotent: an alert is checked once per data date (``last_checked_date``, under a row
lock), a hit is unique per (alert, data date, stock), a digest per (user, data date), and a digest
is marked sent in the transaction that holds its row lock while the mail goes out.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from alerts.mail import digest_message
from alerts.models import (
    Alert,
    AlertDigest,
    AlertHit,
    AlertMailPreference,
)
from alerts.services import (
    alert_mail_unsubscribe_token,
    alert_mails_enabled,
    alerts_plan_limit_apply,
)
from similarity.engine import latest_hits
from similarity.selectors import search_universe
from similarity.snapshot import snapshot_current

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckSummary:
    data_date: dt.date | None
    alerts: int  # alerts checked
    hits: int  # hits found
    users: list[int]  # users with hits on the data date


def alerts_due(*, data_date: dt.date):
    """Active alerts not yet checked against `data_date`."""
    return Alert.objects.filter(status=Alert.Status.ACTIVE).filter(
        Q(last_checked_date__isnull=True) | Q(last_checked_date__lt=data_date)
    )


def alert_batches(*, data_date: dt.date, size: int) -> list[list[int]]:
    """User ids with due alerts, grouped so that a batch holds about `size` alerts and one
    user's alerts are never split (their digest is sent by the batch that checks them)."""
    counts = {}
    for user_id in alerts_due(data_date=data_date).values_list("user_id", flat=True):
        counts[user_id] = counts.get(user_id, 0) + 1
    batches, current, filled = [], [], 0
    for user_id in sorted(counts):
        if current and filled + counts[user_id] > size:
            batches.append(current)
            current, filled = [], 0
        current.append(user_id)
        filled += counts[user_id]
    if current:
        batches.append(current)
    return batches


def alerts_check(*, user_ids: list[int] | None = None) -> CheckSummary:
    """Check every due alert (of `user_ids`, or all) against the current snapshot in latest mode.

    Plans that lapsed are applied first. Alerts are locked while checked (another worker skips
    them), and hits, the alerts' last check and the users' digests are written in one transaction:
    a worker killed here leaves the alerts due, to be checked again by the next delivery.
    """
    snapshot = snapshot_current()
    data_date = snapshot.date
    if data_date is None:
        return CheckSummary(None, 0, 0, [])
    users = User.objects.filter(pk__in=alerts_due(data_date=data_date).values("user_id"))
    if user_ids is not None:
        users = users.filter(pk__in=user_ids)
    for user in users:
        alerts_plan_limit_apply(user=user)

    with transaction.atomic():
        due = alerts_due(data_date=data_date).select_for_update(skip_locked=True, of=("self",))
        if user_ids is not None:
            due = due.filter(user_id__in=user_ids)
        alerts = list(due.order_by("pk"))
        if not alerts:
            return CheckSummary(data_date, 0, 0, [])
        hits = _hits_find(snapshot=snapshot, alerts=alerts)
        created = AlertHit.objects.bulk_create(hits, ignore_conflicts=True)
        Alert.objects.filter(pk__in=[alert.pk for alert in alerts]).update(
            last_checked_date=data_date, last_checked_at=timezone.now()
        )
        users_hit = sorted({hit.alert.user_id for hit in created})
        _digests_open(user_ids=users_hit, data_date=data_date)
    return CheckSummary(data_date, len(alerts), len(created), users_hit)


def _hits_find(*, snapshot, alerts: list[Alert]) -> list[AlertHit]:
    market = snapshot.market
    universe = search_universe(snapshot_id=snapshot.id, series_ids=market.ids)
    masks, mask_of, mask_keys = [], [], {}
    exclude = []
    for p, alert in enumerate(alerts):
        key = (alert.segment, alert.sector, alert.min_turnover)
        if key not in mask_keys:
            mask = universe.mask(segment=key[0], sector=key[1], min_turnover=key[2])
            mask_keys[key] = -1 if mask is None else len(masks)
            if mask is not None:
                masks.append(mask)
        mask_of.append(mask_keys[key])
        own = _own_range(market, alert)
        if own is not None:
            exclude.append((p, *own))
    found = latest_hits(
        market,
        [np.asarray(alert.pattern, dtype=np.float64) for alert in alerts],
        [alert.threshold for alert in alerts],
        masks=masks,
        mask_of=mask_of,
        exclude=exclude,
    )
    hits = []
    for p, s, start, r in zip(
        found.pattern.tolist(),
        found.series.tolist(),
        found.start.tolist(),
        found.correlation.tolist(),
        strict=True,
    ):
        alert = alerts[p]
        closes = market.series_closes(s)
        dates = market.series_dates(s)
        hits.append(
            AlertHit(
                alert=alert,
                data_date=snapshot.date,
                code=market.ids[s],
                name=universe.names[s][:200],
                correlation=round(float(r), 6),
                start_date=dates[start].item(),
                end_date=dates[-1].item(),
                last_close=float(closes[-1]),
            )
        )
    return hits


def _own_range(market, alert: Alert) -> tuple[int, int, int] | None:
    """A stock pattern's own closes in the snapshot, as (series, start, stop) indices."""
    spec = alert.spec
    if spec.get("source") != Alert.Source.STOCK or spec.get("code") not in market.ids:
        return None
    s = market.index_of(spec["code"])
    dates = market.series_dates(s)
    start = int(np.searchsorted(dates, np.datetime64(spec["from"], "D"), side="left"))
    stop = int(np.searchsorted(dates, np.datetime64(spec["to"], "D"), side="right"))
    return (s, start, stop) if stop > start else None


def _digests_open(*, user_ids: list[int], data_date: dt.date) -> None:
    if not user_ids:
        return
    muted = set(
        AlertMailPreference.objects.filter(user_id__in=user_ids, mails_enabled=False).values_list(
            "user_id", flat=True
        )
    )
    AlertDigest.objects.bulk_create(
        [
            AlertDigest(
                user_id=user_id,
                data_date=data_date,
                state=AlertDigest.State.UNSUBSCRIBED
                if user_id in muted
                else AlertDigest.State.PENDING,
            )
            for user_id in user_ids
        ],
        ignore_conflicts=True,
    )


# --- Mail ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendSummary:
    sent: int
    failed: int
    skipped: int


def alert_digests_send(*, user_ids: list[int] | None = None) -> SendSummary:
    """Send every pending or failed digest (of `user_ids`, or all), each in its own transaction.

    The digest's row is locked while its mail goes out and marked sent before the lock is
    released: two workers never send one digest, and a worker killed before the commit leaves it
    pending. A failure is recorded on the digest (attempts, error) for the caller to retry.
    """
    due = AlertDigest.objects.filter(
        state__in=[AlertDigest.State.PENDING, AlertDigest.State.FAILED]
    )
    if user_ids is not None:
        due = due.filter(user_id__in=user_ids)
    sent = failed = skipped = 0
    for digest_id in due.order_by("data_date", "pk").values_list("pk", flat=True):
        outcome = _digest_send(digest_id=digest_id)
        sent += outcome == AlertDigest.State.SENT
        failed += outcome == AlertDigest.State.FAILED
        skipped += outcome not in (AlertDigest.State.SENT, AlertDigest.State.FAILED)
    return SendSummary(sent=sent, failed=failed, skipped=skipped)


@transaction.atomic
def _digest_send(*, digest_id: int) -> str | None:
    digest = (
        AlertDigest.objects.select_for_update(skip_locked=True)
        .select_related("user")
        .filter(pk=digest_id, state__in=[AlertDigest.State.PENDING, AlertDigest.State.FAILED])
        .first()
    )
    if digest is None:
        return None  # sent meanwhile, or another worker is sending it
    if not alert_mails_enabled(user=digest.user):
        digest.state = AlertDigest.State.UNSUBSCRIBED
        digest.save(update_fields=["state"])
        return digest.state
    hits = list(
        AlertHit.objects.filter(alert__user=digest.user, data_date=digest.data_date)
        .select_related("alert")
        .order_by("alert__name", "alert_id", "-correlation", "code")
    )
    if not hits:  # its alerts were deleted meanwhile: nothing to tell
        digest.delete()
        return None
    digest.attempts += 1
    try:
        digest_message(
            user=digest.user,
            data_date=digest.data_date,
            hits=hits,
            unsubscribe_token=alert_mail_unsubscribe_token(user=digest.user),
        ).send()
    except Exception as exc:
        # SMTP refusals, timeouts, a server that is down: recorded here, retried by the task.
        logger.warning("alert digest %s failed: %s", digest.pk, exc)
        digest.state = AlertDigest.State.FAILED
        digest.error = f"{type(exc).__name__}: {exc}"[:2000]
        digest.save(update_fields=["state", "attempts", "error"])
        return digest.state
    digest.state = AlertDigest.State.SENT
    digest.error = ""
    digest.sent_at = timezone.now()
    digest.save(update_fields=["state", "attempts", "error", "sent_at"])
    return digest.state
