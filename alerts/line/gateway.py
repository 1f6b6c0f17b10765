"""The only module that talks to LINE's Messaging API.

Every call is one HTTP request with a timeout of LINE_TIMEOUT_SECONDS to LINE_API_BASE (tests point
it at a local server) and a bearer channel access token. Nothing retries here: a caller records
what failed and tries again later, so a wait that LINE asks for (429 Retry-After) is kept across
processes rather than slept through while a worker holds a row lock.

    LineUnavailable   a timeout, a refused connection, 429 or 5xx: try again (retry_after, if said)
    LineRejected      400, 401, 403 and other 4xx: trying again would fail the same way
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import httpx
from django.conf import settings
from django.utils import timezone

# The longest text a LINE text message may hold, in UTF-16 code units.
TEXT_MAX_LENGTH = 5000
# The longest wait a Retry-After header may ask of us.
RETRY_AFTER_MAX_SECONDS = 3600
# LINE's answers are a few hundred bytes; anything much bigger is not LINE.
RESPONSE_MAX_BYTES = 64 * 1024


class LineError(Exception):
    """A LINE call that did not do what it was asked."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class LineNotConfigured(LineError):
    """LINE_CHANNEL_SECRET or LINE_CHANNEL_ACCESS_TOKEN is not set."""


class LineUnavailable(LineError):
    """Worth trying again: a timeout, a connection error, 429 or 5xx."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class LineRejected(LineError):
    """LINE refused the request (400, 401, 403, …): the same request would be refused again."""


def line_configured() -> bool:
    return bool(settings.LINE_CHANNEL_SECRET and settings.LINE_CHANNEL_ACCESS_TOKEN)


def signature_valid(*, body: bytes, signature: str) -> bool:
    """Whether `signature` (X-Line-Signature) is base64(HMAC-SHA256(channel secret, raw body)).

    Compared in constant time. Without a channel secret nothing is valid: an empty key is a key
    anyone can sign with.
    """
    secret = settings.LINE_CHANNEL_SECRET
    if not secret or not signature:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.encode("ascii", "replace"))


def link_token_issue(*, line_user_id: str) -> str:
    """A link token for the LINE user (valid ten minutes, single use), to start account linking."""
    data = _post(f"/v2/bot/user/{quote(line_user_id, safe='')}/linkToken", body=None)
    token = data.get("linkToken") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token or len(token) > 256:
        raise LineUnavailable("LINE answered the link token request without a link token")
    return token


def text_push(*, line_user_id: str, text: str, retry_key: str) -> None:
    """Push one text message to the LINE user.

    `retry_key` (a UUID) goes in X-Line-Retry-Key: LINE accepts one push per key and answers 409
    to the same key again, which means the message was already accepted, so it counts as sent.
    """
    _post(
        "/v2/bot/message/push",
        body={"to": line_user_id, "messages": [{"type": "text", "text": text}]},
        headers={"X-Line-Retry-Key": retry_key},
        accepted_conflict=True,
    )


def _post(path: str, *, body, headers=None, accepted_conflict: bool = False):
    if not line_configured():
        raise LineNotConfigured("LINE is not configured (LINE_CHANNEL_ACCESS_TOKEN)")
    url = settings.LINE_API_BASE.rstrip("/") + path
    request_headers = {"Authorization": f"Bearer {settings.LINE_CHANNEL_ACCESS_TOKEN}"}
    request_headers.update(headers or {})
    content = b""
    if body is not None:
        content = json.dumps(body, ensure_ascii=False).encode()
        request_headers["Content-Type"] = "application/json"
    try:
        response = httpx.post(
            url,
            content=content,
            headers=request_headers,
            timeout=settings.LINE_TIMEOUT_SECONDS,
            follow_redirects=False,
        )
    except httpx.TimeoutException as exc:
        raise LineUnavailable(f"LINE did not answer in time: {type(exc).__name__}") from exc
    except httpx.TransportError as exc:
        raise LineUnavailable(f"LINE could not be reached: {type(exc).__name__}: {exc}") from exc
    status = response.status_code
    if status == 409 and accepted_conflict:
        return {}
    if status == 429 or status >= 500:
        raise LineUnavailable(
            f"LINE answered {status}: {_message(response)}",
            status=status,
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )
    if not 200 <= status < 300:
        raise LineRejected(f"LINE answered {status}: {_message(response)}", status=status)
    if len(response.content) > RESPONSE_MAX_BYTES:
        raise LineUnavailable(f"LINE's answer is too long ({len(response.content)} bytes)")
    try:
        return response.json() if response.content else {}
    except ValueError as exc:
        raise LineUnavailable("LINE's answer is not JSON") from exc


def _message(response: httpx.Response) -> str:
    """LINE's own explanation of an error ({"message": …}), short."""
    try:
        message = response.json().get("message", "")
    except (ValueError, AttributeError):
        message = ""
    return str(message)[:300] or response.reason_phrase


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds, or an HTTP date), at most an hour."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            seconds = (parsedate_to_datetime(value) - timezone.now()).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_SECONDS)
