"""Shape alerts: writes. Pages, the API, tasks and billing call only these.

    alert_create / alert_update / alert_delete      a user's alerts
    alerts_plan_limit_apply(*, user)                pause what the plan no longer allows
    alerts_check(*, user_ids=None)                  every due alert against the current snapshot
    alert_digests_send(*, user_ids=None)            the day's mails, each at most once
    alert_mails_unsubscribe(*, token)               the one-click link, without a login

Running is idempotent: an alert is checked once per data date (``last_checked_date``, under a row
lock), a hit is unique per (alert, data date, stock), a digest per (user, data date), and a digest
is marked sent in the transaction that holds its row lock while the mail goes out.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from alerts.mail import digest_message
from alerts.models import (
    THRESHOLD_DEFAULT,
    THRESHOLD_MAX,
    THRESHOLD_MIN,
    Alert,
    AlertDigest,
    AlertHit,
    AlertMailPreference,
)
from alerts.selectors import UNSUBSCRIBE_SALT, alert_unsubscribe_user
from billing.entitlements import entitlements_for
from similarity.engine import latest_hits
from similarity.selectors import search_universe
from similarity.services import pattern_resolve
from similarity.snapshot import snapshot_current
from similarity.validation import pattern_spec_clean, search_options_clean
from stocksite.errors import DomainError, InvalidInputError, NotFoundError

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = 200


class AlertInputError(InvalidInputError):
    """Bad alert input; `fields` names the field."""

    def __init__(self, field_name: str, message):
        super().__init__(fields={field_name: [message]})


class AlertLimitReached(DomainError):
    code = "alert_limit"
    status = 403


def _limit_error(limit: int, plan_name: str) -> AlertLimitReached:
    return AlertLimitReached(
        _(
            "Your %(plan)s plan allows %(limit)d active alerts: pause or delete one, "
            "or upgrade on /pricing/."
        )
        % {"plan": plan_name, "limit": limit}
    )


def _threshold_clean(value) -> float:
    if value is None:
        return THRESHOLD_DEFAULT
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise AlertInputError("threshold", _("threshold must be a number."))
    if not THRESHOLD_MIN <= value <= THRESHOLD_MAX:
        raise AlertInputError(
            "threshold",
            _("threshold must be from %(low).2f to %(high).2f.")
            % {"low": THRESHOLD_MIN, "high": THRESHOLD_MAX},
        )
    return float(value)


def _name_clean(value, default: str) -> str:
    if value in (None, ""):
        return default[:NAME_MAX_LENGTH]
    if not isinstance(value, str) or len(value.strip()) > NAME_MAX_LENGTH:
        raise AlertInputError(
            "name", _("Give a name of at most %(max)d characters.") % {"max": NAME_MAX_LENGTH}
        )
    return value.strip() or default[:NAME_MAX_LENGTH]


def _lock_user(user) -> None:
    """Serialise a user's alert writes, so two requests cannot both take the last free slot."""
    User.objects.select_for_update().filter(pk=user.pk).first()


def _check_room(user) -> None:
    limits = entitlements_for(user=user)
    active = Alert.objects.filter(user=user, status=Alert.Status.ACTIVE).count()
    if active >= limits.max_alerts:
        raise _limit_error(limits.max_alerts, limits.plan_name)


@transaction.atomic
def alert_create(
    *,
    user,
    spec: dict,
    name: str | None = None,
    threshold: float | None = None,
    segment: str = "",
    sector: str = "",
    min_turnover: float = 0,
) -> Alert:
    """A new active alert on the pattern `spec` (the search's pattern spec), frozen to prices.

    Raises AlertInputError (400 naming the field), NotFoundError for an unknown stock code and
    AlertLimitReached (403) when the plan's active alerts are all taken.
    """
    spec = pattern_spec_clean(spec=spec)
    filters = search_options_clean(
        options={"segment": segment, "sector": sector, "min_turnover": min_turnover}
    )
    threshold = _threshold_clean(threshold)
    pattern = pattern_resolve(spec=spec)
    name = _name_clean(name, pattern.label)
    _lock_user(user)
    _check_room(user)
    return Alert.objects.create(
        user=user,
        name=name,
        source=spec["source"],
        spec=spec,
        pattern=pattern.values.tolist(),
        threshold=threshold,
        segment=filters["segment"],
        sector=filters["sector"],
        min_turnover=filters["min_turnover"],
    )


@transaction.atomic
def alert_update(
    *,
    user,
    alert: Alert,
    name: str | None = None,
    threshold: float | None = None,
    active: bool | None = None,
) -> Alert:
    """Rename, change the threshold, pause or resume (resuming needs room in the plan)."""
    if alert.user_id != user.pk:
        raise NotFoundError(_("No alert with this id."))
    fields = []
    if name is not None:
        alert.name = _name_clean(name, alert.name)
        fields.append("name")
    if threshold is not None:
        alert.threshold = _threshold_clean(threshold)
        fields.append("threshold")
    if active is not None and active != alert.is_active:
        if active:
            _lock_user(user)
            _check_room(user)
            alert.status, alert.paused_by = Alert.Status.ACTIVE, Alert.PausedBy.NOBODY
        else:
            alert.status, alert.paused_by = Alert.Status.PAUSED, Alert.PausedBy.USER
        fields += ["status", "paused_by"]
    if fields:
        alert.save(update_fields=fields)
    return alert


def alert_delete(*, user, alert: Alert) -> None:
    if alert.user_id != user.pk:
        raise NotFoundError(_("No alert with this id."))
    alert.delete()


@transaction.atomic
def alerts_plan_limit_apply(*, user) -> int:
    """Pause the user's active alerts beyond the plan's limit, newest first; never deletes.

    Billing calls it whenever a user's plan may have gone down (subscription sync, complimentary
    plans), and every run calls it before checking, for plans that simply ran out.
    """
    limit = entitlements_for(user=user).max_alerts
    _lock_user(user)
    newest_first = list(
        Alert.objects.filter(user=user, status=Alert.Status.ACTIVE)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )
    over = newest_first[: max(0, len(newest_first) - limit)]
    if over:
        Alert.objects.filter(pk__in=over).update(
            status=Alert.Status.PAUSED, paused_by=Alert.PausedBy.PLAN
        )
        logger.info("paused %d alerts of user %s above the plan's %d", len(over), user.pk, limit)
    return len(over)


# --- Running ------------------------------------------------------------------------------------


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


def alert_mails_enabled(*, user) -> bool:
    preference = AlertMailPreference.objects.filter(user=user).first()
    return preference is None or preference.mails_enabled


def alert_mail_unsubscribe_token(*, user) -> str:
    """A signed token naming the user, for the unsubscribe link; it does not expire."""
    return signing.dumps({"user": user.pk}, salt=UNSUBSCRIBE_SALT)


def alert_mails_set(*, user, enabled: bool) -> None:
    AlertMailPreference.objects.update_or_create(user=user, defaults={"mails_enabled": enabled})


def alert_mails_unsubscribe(*, token: str):
    """Turn a user's alert mails off from a signed link (no login); returns the user."""
    user = alert_unsubscribe_user(token=token)
    alert_mails_set(user=user, enabled=False)
    return user
