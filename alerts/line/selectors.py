"""Reads of the LINE channel: what a user's alerts page may offer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from alerts.line.gateway import line_configured
from alerts.models import LineLink, LineWebhookEvent
from billing.entitlements import entitlements_for

# The settings without which the LINE option is hidden; staff are told which are missing.
REQUIRED_SETTINGS = ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "LINE_ADD_FRIEND_URL")


@dataclass(frozen=True)
class LineStatus:
    missing_settings: tuple[str, ...]  # empty when the site can use LINE
    entitled: bool  # the user's plan includes alerts on LINE
    link: LineLink | None
    add_friend_url: str

    @property
    def configured(self) -> bool:
        return not self.missing_settings

    @property
    def usable(self) -> bool:
        """Digests may go to LINE: the site is set up, the plan allows it, an account is linked."""
        return self.configured and self.entitled and self.link is not None


def line_missing_settings() -> tuple[str, ...]:
    return tuple(name for name in REQUIRED_SETTINGS if not getattr(settings, name))


def line_link_get(*, user) -> LineLink | None:
    return LineLink.objects.filter(user=user).first()


def line_status(*, user) -> LineStatus:
    return LineStatus(
        missing_settings=line_missing_settings(),
        entitled=entitlements_for(user=user).line_alerts,
        link=line_link_get(user=user),
        add_friend_url=settings.LINE_ADD_FRIEND_URL,
    )


def line_deliverable(*, user) -> bool:
    """Whether a digest of the user can be pushed to LINE now (the site can push, and a LINE
    account is linked); the plan and the user's choice are asked separately."""
    return line_configured() and LineLink.objects.filter(user=user).exists()


def line_events_unhandled(*, older_than: dt.timedelta) -> list[int]:
    """Events stored more than `older_than` ago and not handled: their task was lost (a broker
    flushed) or gave up its retries."""
    return list(
        LineWebhookEvent.objects.filter(
            state__in=[LineWebhookEvent.State.RECEIVED, LineWebhookEvent.State.FAILED],
            received_at__lt=timezone.now() - older_than,
        )
        .order_by("received_at")
        .values_list("pk", flat=True)
    )
