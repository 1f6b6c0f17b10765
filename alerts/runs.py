"""Shape alerts: the daily run. Tasks and the alerts_run command call these.

    alerts_check(*, user_ids=None)                  every due alert against the current snapshot
    alert_deliveries_send(*, user_ids=None)         the day's digests on each channel, once

Running is idempotent: an alert is checked once per data date (``last_checked_date``, under a row
lock), a hit is unique per (alert, data date, stock), a digest per (user, data date), a delivery
per (digest, channel), and a delivery is marked sent in the transaction that holds its row lock
while the mail or the LINE push goes out (a LINE push carries the delivery's retry key as well).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import User
from alerts import limits as alert_limits
from alerts.line import gateway as line_gateway
from alerts.line.messages import digest_text
from alerts.line.selectors import line_link_get
from alerts.mail import digest_message
from alerts.models import Alert, AlertDelivery, AlertDigest, AlertHit, Channel
from alerts.services import (
    alert_channel_on,
    alert_channels_chosen,
    alert_mail_unsubscribe_token,
    alerts_plan_limit_apply,
)
from alerts.watchlist.selectors import watchlist_series_codes
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
        Alert.objects.bulk_update(alerts, ["hits_not_kept"])
        Alert.objects.filter(pk__in=[alert.pk for alert in alerts]).update(
            last_checked_date=data_date, last_checked_at=timezone.now()
        )
        users_hit = sorted({hit.alert.user_id for hit in created})
        _digests_open(user_ids=users_hit, data_date=data_date)
    return CheckSummary(data_date, len(alerts), len(created), users_hit)


def _hits_find(*, snapshot, alerts: list[Alert]) -> list[AlertHit]:
    market = snapshot.market
    universe = search_universe(snapshot_id=snapshot.id, series_ids=market.ids)
    # The watchlists as they are now, of the users whose alerts check only theirs.
    watchlists = watchlist_series_codes(
        user_ids={a.user_id for a in alerts if a.universe == Alert.Universe.WATCHLIST}
    )
    masks, mask_of, mask_keys = [], [], {}
    exclude = []
    for p, alert in enumerate(alerts):
        watching = alert.universe == Alert.Universe.WATCHLIST
        key = (alert.segment, alert.sector, alert.min_turnover, alert.user_id if watching else None)
        if key not in mask_keys:
            mask = universe.mask(segment=key[0], sector=key[1], min_turnover=key[2])
            if watching:
                mask = _watchlist_mask(market, watchlists[alert.user_id], mask)
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
    best_first = np.lexsort((-found.correlation, found.pattern))
    order = best_first.tolist()
    kept_per_alert: dict[int, int] = {}
    for alert in alerts:
        alert.hits_not_kept = 0
    hits = []
    for p, s, start, r in zip(
        found.pattern[order].tolist(),
        found.series[order].tolist(),
        found.start[order].tolist(),
        found.correlation[order].tolist(),
        strict=True,
    ):
        alert = alerts[p]
        if kept_per_alert.get(p, 0) >= alert_limits.HITS_KEPT_PER_ALERT_AND_DAY:
            alert.hits_not_kept += 1
            continue
        kept_per_alert[p] = kept_per_alert.get(p, 0) + 1
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


def _watchlist_mask(market, codes: list[str], mask: np.ndarray | None) -> np.ndarray:
    """The series of a watchlist's stocks (those in the snapshot), within the filters' mask."""
    watched = np.zeros(len(market.ids), dtype=bool)
    for code in codes:
        try:
            watched[market.index_of(code)] = True
        except KeyError:  # not in the snapshot (no prices yet)
            continue
    return watched if mask is None else watched & mask


@transaction.atomic
def alert_hits_prune(*, today: dt.date) -> int:
    """Delete the hits older than HITS_KEPT_DAYS; returns how many went."""
    cutoff = today - dt.timedelta(days=alert_limits.HITS_KEPT_DAYS)
    deleted, _by_model = AlertHit.objects.filter(data_date__lt=cutoff).delete()
    return deleted


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
    """A digest for each user, and on it a delivery for each channel the user chose."""
    for user in User.objects.filter(pk__in=user_ids).order_by("pk"):
        digest, created = AlertDigest.objects.get_or_create(user=user, data_date=data_date)
        if created:
            AlertDelivery.objects.bulk_create(
                AlertDelivery(digest=digest, channel=channel)
                for channel in alert_channels_chosen(user=user)
            )


# --- Sending ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendSummary:
    sent: int
    failed: int  # deliveries left failed, to be tried again
    skipped: int
    retry_after: float = 0.0  # seconds until the last of the failed ones may be tried


def alert_deliveries_send(*, user_ids: list[int] | None = None) -> SendSummary:
    """Send every pending or failed delivery (of `user_ids`, or all), each in its own transaction.

    A delivery's row is locked while it goes out and marked sent before the lock is released: two
    workers never send one delivery, and a worker killed before the commit leaves it pending. A
    failure is recorded on the delivery (attempts, error, and the wait LINE asked for); the
    digest's other channel goes out all the same.
    """
    deliveries = AlertDelivery.objects.all()
    if user_ids is not None:
        deliveries = deliveries.filter(digest__user_id__in=user_ids)
    now = timezone.now()
    due = deliveries.filter(state__in=AlertDelivery.DUE_STATES).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    sent = skipped = 0
    for delivery_id in due.order_by("digest__data_date", "pk").values_list("pk", flat=True):
        outcome = _delivery_send(delivery_id=delivery_id)
        sent += outcome == AlertDelivery.State.SENT
        skipped += outcome not in (AlertDelivery.State.SENT, AlertDelivery.State.FAILED)
    failed = deliveries.filter(state=AlertDelivery.State.FAILED)
    latest = failed.aggregate(latest=Max("next_attempt_at"))["latest"]
    wait = max(0.0, (latest - timezone.now()).total_seconds()) if latest else 0.0
    return SendSummary(sent=sent, failed=failed.count(), skipped=skipped, retry_after=wait)


@transaction.atomic
def _delivery_send(*, delivery_id: int) -> str | None:
    delivery = (
        AlertDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("digest__user")
        .filter(pk=delivery_id, state__in=AlertDelivery.DUE_STATES)
        .first()
    )
    if delivery is None:
        return None  # sent meanwhile, or another worker is sending it
    digest = delivery.digest
    if not alert_channel_on(user=digest.user, channel=delivery.channel):
        delivery.state = AlertDelivery.State.OFF
        delivery.save(update_fields=["state"])
        return delivery.state
    day_hits = AlertHit.objects.filter(alert__user=digest.user, data_date=digest.data_date)
    hits = sorted(
        day_hits.select_related("alert").order_by("-correlation", "code")[
            : alert_limits.HITS_PER_DIGEST
        ],
        key=lambda hit: (hit.alert.name, hit.alert_id, -hit.correlation, hit.code),
    )
    more = day_hits.count() - len(hits) if len(hits) == alert_limits.HITS_PER_DIGEST else 0
    if not hits:  # its alerts were deleted meanwhile: nothing to tell
        delivery.delete()
        return None
    delivery.attempts += 1
    delivery.next_attempt_at = None
    fields = ["state", "attempts", "error", "next_attempt_at"]
    try:
        if delivery.channel == Channel.MAIL:
            _mail_send(digest=digest, hits=hits, more=more)
        else:
            _line_send(delivery=delivery, hits=hits)
    except line_gateway.LineRejected as exc:
        logger.warning("alert delivery %s refused: %s", delivery.pk, exc)
        delivery.state = AlertDelivery.State.REJECTED
        delivery.error = f"{type(exc).__name__}: {exc}"[:2000]
        delivery.save(update_fields=fields)
        return delivery.state
    except Exception as exc:
        # SMTP refusals, timeouts, a server that is down, LINE's 429 and 5xx: recorded here,
        # retried by the task.
        logger.warning("alert delivery %s failed: %s", delivery.pk, exc)
        delivery.state = AlertDelivery.State.FAILED
        delivery.error = f"{type(exc).__name__}: {exc}"[:2000]
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=retry_after)
        delivery.save(update_fields=fields)
        return delivery.state
    delivery.state = AlertDelivery.State.SENT
    delivery.error = ""
    delivery.sent_at = timezone.now()
    delivery.save(update_fields=[*fields, "sent_at"])
    return delivery.state


def _mail_send(*, digest: AlertDigest, hits: list[AlertHit], more: int = 0) -> None:
    digest_message(
        user=digest.user,
        data_date=digest.data_date,
        hits=hits,
        more=more,
        unsubscribe_token=alert_mail_unsubscribe_token(user=digest.user, digest_id=digest.pk),
    ).send()


def _line_send(*, delivery: AlertDelivery, hits: list[AlertHit]) -> None:
    digest = delivery.digest
    link = line_link_get(user=digest.user)
    line_gateway.text_push(
        line_user_id=link.line_user_id,
        text=digest_text(user=digest.user, data_date=digest.data_date, hits=hits),
        retry_key=str(delivery.retry_key),
    )
