"""Linking LINE accounts, and the webhook's events. The webhook view and the tasks call these.

    line_account_link_url(*, user, link_token)   the LINE dialog URL with a fresh nonce
    line_unlink(*, user)                         the account page's "unlink"
    line_webhook_receive(*, body)                store each new event once; their ids to process
    line_event_process(*, event_id)              handle one stored event, once

LINE's account-link flow: a user who adds the official account as a friend (follow) or writes to
it gets a link to /line/link/?linkToken=…; signed in there, they are sent to LINE's dialog with a
nonce bound to their account; LINE then sends an accountLink event with that nonce, which links
the LINE user id to the account.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.line import gateway, messages
from alerts.models import AlertChannelPreference, LineLink, LineLinkNonce, LineWebhookEvent
from core.errors import InvalidInputError

logger = logging.getLogger(__name__)

ACCOUNT_LINK_URL = "https://access.line.me/dialog/bot/accountLink"
# LINE's link token lasts ten minutes; the nonce of the same attempt as long.
NONCE_LIFETIME = dt.timedelta(minutes=10)
# Link attempts a user may have open at once (several tabs); older ones are dropped.
NONCES_PER_USER = 5
# 32 random bytes: 256 bits, URL-safe.
NONCE_BYTES = 32
# LINE redelivers a failed webhook for a while; an event id is remembered this long.
EVENT_RETENTION = dt.timedelta(days=7)
# LINE sends a few events per request; more than this is not LINE.
EVENTS_PER_BODY_MAX = 100
LINK_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_\-]{1,256}")
LINE_ID_MAX_LENGTH = 64

# The event types handled; every other verified event is stored and ignored.
LINK_OFFER_EVENTS = ("follow", "message")


def link_token_clean(link_token: str) -> str:
    """The link token of a link page's address, or InvalidInputError (400)."""
    if not LINK_TOKEN_PATTERN.fullmatch(link_token or ""):
        raise InvalidInputError(
            _("This LINE link is not valid. Send a message to our LINE account for a new one."),
            fields={"linkToken": [_("not a LINE link token")]},
        )
    return link_token


def line_account_link_url(*, user, link_token: str) -> str:
    """LINE's account-link dialog for `link_token`, with a new single-use nonce bound to `user`."""
    link_token = link_token_clean(link_token)
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    now = timezone.now()
    with transaction.atomic():
        LineLinkNonce.objects.filter(expires_at__lte=now).delete()
        LineLinkNonce.objects.create(user=user, nonce=nonce, expires_at=now + NONCE_LIFETIME)
        stale = LineLinkNonce.objects.filter(user=user).order_by("-created_at", "-pk")[
            NONCES_PER_USER:
        ]
        LineLinkNonce.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()
    return f"{ACCOUNT_LINK_URL}?{urlencode({'linkToken': link_token, 'nonce': nonce})}"


@transaction.atomic
def line_unlink(*, user) -> bool:
    """Remove the user's LINE link and stop their LINE digests; False if none was linked."""
    deleted, _rows = LineLink.objects.filter(user=user).delete()
    AlertChannelPreference.objects.filter(user=user).update(line_enabled=False)
    return bool(deleted)


# --- Webhook ------------------------------------------------------------------------------------


@transaction.atomic
def line_webhook_receive(*, body: bytes) -> list[int]:
    """Store each event of a verified webhook body once, under its webhookEventId.

    Returns the ids of the rows stored now, to be processed; an event LINE sends again (a
    redelivery) finds its row and is not returned. A body that is not LINE's shape stores
    nothing: LINE is answered 200 all the same, since its signature was good.
    """
    now = timezone.now()
    LineWebhookEvent.objects.filter(received_at__lt=now - EVENT_RETENTION).delete()
    try:
        events = json.loads(body).get("events")
    except (ValueError, AttributeError):
        logger.warning("LINE webhook: a signed body that is not a JSON object")
        return []
    if not isinstance(events, list):
        return []
    stored = []
    for event in events[:EVENTS_PER_BODY_MAX]:
        if not isinstance(event, dict):
            continue
        event_id, event_type = event.get("webhookEventId"), event.get("type")
        if not (isinstance(event_id, str) and 0 < len(event_id) <= 64):
            continue
        if not (isinstance(event_type, str) and 0 < len(event_type) <= 32):
            continue
        try:
            with transaction.atomic():
                row, created = LineWebhookEvent.objects.get_or_create(
                    webhook_event_id=event_id, defaults={"type": event_type, "payload": event}
                )
        except IntegrityError:  # the same event in a concurrent request
            continue
        if created:
            stored.append(row.pk)
    return stored


@dataclass(frozen=True)
class EventOutcome:
    state: str | None  # None: handled already, or being handled by another worker
    retry: bool = False  # LINE could not be reached: try again later
    retry_after: float | None = None  # the wait LINE asked for, if it did


@transaction.atomic
def line_event_process(*, event_id: int) -> EventOutcome:
    """Handle one stored event, once: the row is locked while handled and marked processed
    (its payload cleared) in the same transaction.

    When LINE cannot be reached the event is left failed and the outcome asks for a retry; an
    event LINE refuses is left failed for good.
    """
    event = (
        LineWebhookEvent.objects.select_for_update(skip_locked=True)
        .filter(
            pk=event_id, state__in=[LineWebhookEvent.State.RECEIVED, LineWebhookEvent.State.FAILED]
        )
        .first()
    )
    if event is None:
        return EventOutcome(state=None)
    event.attempts += 1
    try:
        with transaction.atomic():
            _event_handle(event)
    except gateway.LineError as exc:
        logger.warning("LINE event %s failed: %s", event.webhook_event_id, exc)
        event.state = LineWebhookEvent.State.FAILED
        event.error = f"{type(exc).__name__}: {exc}"[:2000]
        event.save(update_fields=["state", "error", "attempts"])
        if isinstance(exc, gateway.LineUnavailable):
            return EventOutcome(state=event.state, retry=True, retry_after=exc.retry_after)
        return EventOutcome(state=event.state)
    event.state = LineWebhookEvent.State.PROCESSED
    event.payload = {}
    event.error = ""
    event.processed_at = timezone.now()
    event.save(update_fields=["state", "payload", "error", "processed_at", "attempts"])
    return EventOutcome(state=event.state)


def _event_handle(event: LineWebhookEvent) -> None:
    payload = event.payload
    source = payload.get("source") if isinstance(payload.get("source"), dict) else {}
    line_user_id = source.get("userId")
    if source.get("type") != "user" or not isinstance(line_user_id, str):
        return  # groups and rooms are not linked to accounts
    if not 0 < len(line_user_id) <= LINE_ID_MAX_LENGTH:
        return
    if event.type == "unfollow":
        _line_user_unlink(line_user_id=line_user_id)
    elif event.type == "accountLink":
        link = payload.get("link") if isinstance(payload.get("link"), dict) else {}
        _account_link(line_user_id=line_user_id, link=link, event=event)
    elif event.type in LINK_OFFER_EVENTS:
        message = payload.get("message")
        if event.type == "message" and not (
            isinstance(message, dict) and message.get("type") == "text"
        ):
            return
        if not LineLink.objects.filter(line_user_id=line_user_id).exists():
            _link_offer(line_user_id=line_user_id, event=event)


def _retry_key(event: LineWebhookEvent) -> str:
    """The same push key on every try of one event: a retry never pushes twice."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"line-webhook-event:{event.webhook_event_id}"))


def _link_offer(*, line_user_id: str, event: LineWebhookEvent) -> None:
    """Push a link message, at most once per LINE user while its link token lasts: every push
    costs the operator, and someone not linked may write many messages."""
    offered = f"line:link-offered:{line_user_id}"
    if cache.get(offered):
        return
    link_token = gateway.link_token_issue(line_user_id=line_user_id)
    gateway.text_push(
        line_user_id=line_user_id,
        text=messages.link_text(link_token=link_token),
        retry_key=_retry_key(event),
    )
    cache.set(offered, True, timeout=NONCE_LIFETIME.total_seconds())


def _account_link(*, line_user_id: str, link: dict, event: LineWebhookEvent) -> None:
    nonce = link.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        return
    # Single use: taken whatever the result, and only while it lasts.
    found = (
        LineLinkNonce.objects.select_for_update()
        .select_related("user")
        .filter(nonce=nonce, expires_at__gt=timezone.now())
        .first()
    )
    LineLinkNonce.objects.filter(nonce=nonce).delete()
    if found is None or link.get("result") != "ok":
        logger.info(
            "LINE accountLink not linked: result %r, nonce known %s",
            link.get("result"),
            found is not None,
        )
        return
    user = found.user
    # One LINE user id, one account; one account, one LINE user id: a new link replaces both.
    LineLink.objects.filter(line_user_id=line_user_id).exclude(user=user).delete()
    LineLink.objects.update_or_create(user=user, defaults={"line_user_id": line_user_id})
    AlertChannelPreference.objects.update_or_create(user=user, defaults={"line_enabled": True})
    try:
        gateway.text_push(
            line_user_id=line_user_id,
            text=messages.linked_text(user=user),
            retry_key=_retry_key(event),
        )
    except gateway.LineError as exc:
        # The link holds; only the word of thanks is lost.
        logger.warning("LINE: the linked message to user %s failed: %s", user.pk, exc)


def _line_user_unlink(*, line_user_id: str) -> None:
    links = LineLink.objects.filter(line_user_id=line_user_id)
    AlertChannelPreference.objects.filter(user__line_link__in=links).update(line_enabled=False)
    links.delete()
