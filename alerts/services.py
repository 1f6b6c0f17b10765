"""Shape alerts: writes of a user's alerts and mail settings. Pages, the API and billing call
these; the daily run (checks and digests) is in alerts.runs.

    alert_create / alert_update / alert_delete      a user's alerts
    alerts_plan_limit_apply(*, user)                pause what the plan no longer allows
    alert_channels_set(*, user, mail, line)         the channels the user's digests go to
    alert_mails_unsubscribe(*, token)               the one-click link, without a login
"""

from __future__ import annotations

import logging
import time

from django.core import signing
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from alerts import limits as alert_limits
from alerts.line.selectors import line_deliverable, line_status
from alerts.models import (
    THRESHOLD_DEFAULT,
    THRESHOLD_MAX,
    THRESHOLD_MIN,
    Alert,
    AlertChannelPreference,
    Channel,
)
from alerts.selectors import UNSUBSCRIBE_SALT, alert_channels_get, alert_unsubscribe_user
from billing.entitlements import entitlements_for
from core.errors import DomainError, InvalidInputError, NotFoundError
from similarity.results.texts import stock_label_text
from similarity.services import pattern_resolve
from similarity.validation import pattern_spec_clean, search_options_clean

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = 200


class AlertInputError(InvalidInputError):
    """Bad alert input; `fields` names the field."""

    def __init__(self, field_name: str, message):
        super().__init__(fields={field_name: [message]})


class AlertLimitReached(DomainError):
    code = "alert_limit"
    status = 403


class LineChannelUnavailable(DomainError):
    code = "line_unavailable"
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


def _check_storage(user) -> None:
    limits = entitlements_for(user=user)
    stored_limit = alert_limits.STORED_PER_ACTIVE_ALLOWED * limits.max_alerts
    if Alert.objects.filter(user=user).count() >= stored_limit:
        raise AlertLimitReached(
            _(
                "Your %(plan)s plan keeps %(limit)d alerts, paused ones included: delete one, "
                "or upgrade on /pricing/."
            )
            % {"plan": limits.plan_name, "limit": stored_limit}
        )


def _universe_clean(value) -> str:
    if value in (None, ""):
        return Alert.Universe.MARKET
    if value not in Alert.Universe.values:
        raise AlertInputError(
            "universe",
            _("The stocks checked are one of: %(choices)s.")
            % {"choices": ", ".join(Alert.Universe.values)},
        )
    return value


def _spec_stored(spec: dict, values) -> dict:
    """The spec kept with the alert: a sketch as the days it was resampled to (at most
    MAX_LENGTH points, the same line), not the thousands of points drawn."""
    if spec["source"] != "sketch":
        return spec
    return {**spec, "points": [[float(day), float(value)] for day, value in enumerate(values)]}


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
    universe: str | None = None,
) -> Alert:
    """A new active alert on the pattern `spec` (the search's pattern spec), frozen to prices,
    checked across the market or (universe "watchlist") only the user's watchlist at each run.

    Raises AlertInputError (400 naming the field), NotFoundError for an unknown stock code and
    AlertLimitReached (403) when the plan's active alerts are all taken.
    """
    spec = pattern_spec_clean(spec=spec)
    filters = search_options_clean(
        options={"segment": segment, "sector": sector, "min_turnover": min_turnover}
    )
    threshold = _threshold_clean(threshold)
    universe = _universe_clean(universe)
    pattern = pattern_resolve(spec=spec)
    name = _name_clean(name, stock_label_text(pattern.label))
    _lock_user(user)
    _check_room(user)
    _check_storage(user)
    return Alert.objects.create(
        user=user,
        name=name,
        source=spec["source"],
        spec=_spec_stored(spec, pattern.values),
        pattern=pattern.values.tolist(),
        threshold=threshold,
        segment=filters["segment"],
        sector=filters["sector"],
        min_turnover=filters["min_turnover"],
        universe=universe,
    )


@transaction.atomic
def alert_update(
    *,
    user,
    alert: Alert,
    name: str | None = None,
    threshold: float | None = None,
    active: bool | None = None,
    universe: str | None = None,
) -> Alert:
    """Rename, change the threshold or the stocks checked, pause or resume (resuming needs room
    in the plan)."""
    if alert.user_id != user.pk:
        raise NotFoundError(_("No alert with this id."))
    fields = []
    if name is not None:
        alert.name = _name_clean(name, alert.name)
        fields.append("name")
    if threshold is not None:
        alert.threshold = _threshold_clean(threshold)
        fields.append("threshold")
    if universe is not None:
        alert.universe = _universe_clean(universe)
        fields.append("universe")
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


# --- Channels -----------------------------------------------------------------------------------


def alert_channels_chosen(*, user) -> list[str]:
    """The channels a digest of the user goes to now: mail unless turned off; LINE when the user
    turned it on, their plan includes it and a LINE account is linked (and the site can push)."""
    preference = alert_channels_get(user=user)
    channels = [Channel.MAIL] if preference.mails_enabled else []
    if (
        preference.line_enabled
        and entitlements_for(user=user).line_alerts
        and line_deliverable(user=user)
    ):
        channels.append(Channel.LINE)
    return channels


def alert_channel_on(*, user, channel: str) -> bool:
    """Whether the user still wants this channel (asked again just before sending)."""
    preference = alert_channels_get(user=user)
    if channel == Channel.MAIL:
        return preference.mails_enabled
    return preference.line_enabled and line_deliverable(user=user)


def alert_channels_set(*, user, mail: bool, line: bool) -> None:
    """Choose the channels of the user's digests. LINE needs the plan and a linked account."""
    if line:
        status = line_status(user=user)
        if not status.configured:
            raise LineChannelUnavailable(_("Alerts on LINE are not available on this site."))
        if not status.entitled:
            raise LineChannelUnavailable(_("Alerts on LINE come with the Pro plan."))
        if status.link is None:
            raise LineChannelUnavailable(
                _("Link your LINE account first: add our LINE account as a friend.")
            )
    AlertChannelPreference.objects.update_or_create(
        user=user, defaults={"mails_enabled": mail, "line_enabled": line}
    )


def alert_mail_unsubscribe_token(*, user, digest_id: int) -> str:
    """A signed token for one digest's unsubscribe link: it names the user and the digest, and
    the moment it was made, so that it expires after UNSUBSCRIBE_LINK_DAYS and stops working
    once mails are turned back on after it was sent."""
    return signing.dumps(
        {"user": user.pk, "digest": digest_id, "at": time.time()}, salt=UNSUBSCRIBE_SALT
    )


def alert_mails_set(*, user, enabled: bool) -> None:
    AlertChannelPreference.objects.update_or_create(user=user, defaults={"mails_enabled": enabled})


def alert_mails_unsubscribe(*, token: str):
    """Turn a user's alert mails off from a signed link (no login); returns the user."""
    user = alert_unsubscribe_user(token=token)
    alert_mails_set(user=user, enabled=False)
    return user
