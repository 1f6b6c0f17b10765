"""Shape alerts: reads. A user only ever sees their own alerts."""

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Max, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from alerts.models import Alert, AlertChannelPreference, AlertDelivery, AlertHit, LineLink
from core.errors import NotFoundError

RECENT_HITS = 10
UNSUBSCRIBE_SALT = "alerts.unsubscribe"
# How long a digest's unsubscribe link works (the mail says nothing else; a later digest brings a
# new link).
UNSUBSCRIBE_LINK_DAYS = 30


def alert_list(*, user) -> QuerySet[Alert]:
    """The user's alerts, newest first."""
    return Alert.objects.filter(user=user).order_by("-created_at", "-id")


def alert_get(*, user, alert_id) -> Alert:
    """The user's alert with that id; someone else's, or no such id, is a 404."""
    try:
        return Alert.objects.get(pk=alert_id, user=user)
    except (Alert.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise NotFoundError(_("No alert with this id.")) from exc


def alert_hits(*, alert: Alert) -> QuerySet[AlertHit]:
    """An alert's hits, the latest data date first, best correlation first."""
    return alert.hits.order_by("-data_date", "-correlation", "code")


def alert_latest_hits(
    *, alerts: list[Alert], limit: int = RECENT_HITS
) -> dict[int, list[AlertHit]]:
    """For each alert, the hits of its latest data date with hits (at most `limit`), in two
    queries for the whole list."""
    latest = dict(
        AlertHit.objects.filter(alert__in=alerts)
        .values("alert_id")
        .annotate(day=Max("data_date"))
        .values_list("alert_id", "day")
    )
    found: dict[int, list[AlertHit]] = {alert.pk: [] for alert in alerts}
    if not latest:
        return found
    rows = AlertHit.objects.filter(alert__in=alerts, data_date__in=set(latest.values())).order_by(
        "alert_id", "-correlation", "code"
    )
    for hit in rows:
        if hit.data_date == latest[hit.alert_id] and len(found[hit.alert_id]) < limit:
            found[hit.alert_id].append(hit)
    return found


def alert_channels_get(*, user) -> AlertChannelPreference:
    """The user's channel choice; the defaults (mail on, LINE off) if they never chose."""
    return AlertChannelPreference.objects.filter(user=user).first() or AlertChannelPreference(
        user=user
    )


def alert_unsubscribe_user(*, token: str) -> User:
    """The user an unsubscribe token was signed for; a bad token, one older than
    UNSUBSCRIBE_LINK_DAYS, or one made before mails were last turned back on is a 404."""
    try:
        payload = signing.loads(
            token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_LINK_DAYS * 24 * 3600
        )
        user_id, made_at = payload["user"], float(payload["at"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise NotFoundError(_("This unsubscribe link is not valid.")) from exc
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFoundError(_("This unsubscribe link is not valid."))
    preference = AlertChannelPreference.objects.filter(user=user).first()
    if preference and preference.mails_enabled and preference.changed_at.timestamp() > made_at:
        raise NotFoundError(
            _(
                "This unsubscribe link is from before mails were turned back on: "
                "use the newest mail's."
            )
        )
    return user


def alerts_export(*, user) -> dict:
    """What alerts keep about a user: their section of the account page's download."""
    channels = alert_channels_get(user=user)
    return {
        "shape_alerts": list(
            Alert.objects.filter(user=user)
            .order_by("created_at")
            .values(
                "name",
                "created_at",
                "source",
                "spec",
                "threshold",
                "segment",
                "sector",
                "universe",
                "status",
            )
        ),
        "alert_channels": {
            "mail": channels.mails_enabled,
            "line": channels.line_enabled,
        },
        "line_link": LineLink.objects.filter(user=user).values("line_user_id", "linked_at").first(),
        "alert_hits": (
            AlertHit.objects.filter(alert__user=user)
            .order_by("data_date", "alert_id", "-correlation")
            .values(
                "alert__name", "data_date", "code", "name", "correlation", "start_date", "end_date"
            )
            .iterator(chunk_size=2000)
        ),
        "alert_deliveries": (
            AlertDelivery.objects.filter(digest__user=user)
            .order_by("digest__data_date", "channel")
            .values("digest__data_date", "channel", "state", "attempts", "created_at", "sent_at")
            .iterator(chunk_size=2000)
        ),
    }
