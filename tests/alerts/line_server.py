"""A local server in the shape of LINE's Messaging API, and LINE's side of the webhook.

`FakeLine` answers, over real HTTP (pytest-httpserver):
    POST /v2/bot/user/{userId}/linkToken   {"linkToken": …}
    POST /v2/bot/message/push             200 {"sentMessages": […]}; 409 to a retry key it has
                                           already accepted, as LINE does
with LINE's error bodies: 401 for a wrong channel access token, 400 for a bad message, and the
faults a test queues (429 with Retry-After, 500, 403, …) before the real answer. `accept_slowly`
accepts the next push and then answers too late, like a timeout after LINE took the message.

`webhook_body` and `signature` build what LINE posts to /line/webhook/.
"""

import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections import defaultdict

from werkzeug import Request, Response

ACCESS_TOKEN = "test-channel-access-token"
CHANNEL_SECRET = "test-channel-secret-0123456789abcdef"
LINK_TOKEN_PATH = re.compile(r"/v2/bot/user/([^/]+)/linkToken")
PUSH_PATH = "/v2/bot/message/push"

_ids = itertools.count(1)


def _json(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, content_type="application/json", headers=headers
    )


def error(status: int, message: str = "", retry_after: str | None = None) -> Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else None
    return _json({"message": message or f"error {status}"}, status, headers)


class FakeLine:
    def __init__(self, server):
        self.server = server
        self.link_tokens: dict[str, str] = {}  # link token -> LINE user id
        self.pushes: list[dict] = []  # accepted messages: to, text, retry_key
        self.push_requests: list[dict] = []  # every push request, accepted or not
        self.faults: dict[str, list[Response]] = defaultdict(list)
        self._slow_push_seconds: float | None = None
        self._accepted: dict[str, str] = {}  # retry key -> request id
        self._lock = threading.Lock()
        server.expect_request(LINK_TOKEN_PATH, method="POST").respond_with_handler(self._link_token)
        server.expect_request(PUSH_PATH, method="POST").respond_with_handler(self._push)

    @property
    def base_url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def fail_next(self, path: str, *responses: Response) -> None:
        """Answer the next requests to `path` ("push" or "linkToken") with these, in order."""
        self.faults[path].extend(responses)

    def accept_slowly(self, seconds: float) -> None:
        """Accept the next push, then answer only after `seconds` (past the client's timeout)."""
        self._slow_push_seconds = seconds

    def texts_to(self, line_user_id: str) -> list[str]:
        return [push["text"] for push in self.pushes if push["to"] == line_user_id]

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {ACCESS_TOKEN}"

    def _link_token(self, request: Request) -> Response:
        if not self._authorized(request):
            return error(401, "Authentication failed. Confirm that the access token is valid.")
        if self.faults["linkToken"]:
            return self.faults["linkToken"].pop(0)
        line_user_id = LINK_TOKEN_PATH.fullmatch(request.path)[1]
        token = f"linktoken{next(_ids):06d}"
        self.link_tokens[token] = line_user_id
        return _json({"linkToken": token})

    def _push(self, request: Request) -> Response:
        retry_key = request.headers.get("X-Line-Retry-Key")
        body = request.get_json(silent=True) or {}
        self.push_requests.append({"retry_key": retry_key, "body": body})
        if not self._authorized(request):
            return error(401, "Authentication failed. Confirm that the access token is valid.")
        if self.faults["push"]:
            return self.faults["push"].pop(0)
        messages = body.get("messages") or []
        if not body.get("to") or len(messages) != 1 or messages[0].get("type") != "text":
            return error(400, "The request body has 1 error(s)")
        text = messages[0].get("text", "")
        if not text or len(text.encode("utf-16-le")) // 2 > 5000:
            return error(400, "Length must be between 1 and 5000")
        with self._lock:
            if retry_key in self._accepted:
                return _json(
                    {"message": "The retry key is already accepted"},
                    409,
                    {"x-line-accepted-request-id": self._accepted[retry_key]},
                )
            request_id = f"request{next(_ids):06d}"
            if retry_key:
                self._accepted[retry_key] = request_id
            self.pushes.append({"to": body["to"], "text": text, "retry_key": retry_key})
        if self._slow_push_seconds is not None:
            seconds, self._slow_push_seconds = self._slow_push_seconds, None
            time.sleep(seconds)
        return _json({"sentMessages": [{"id": request_id, "quoteToken": "q"}]})


# --- LINE's side of the webhook ------------------------------------------------------------------


def signature(body: bytes, secret: str = CHANNEL_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def event(event_type: str, line_user_id: str, **fields) -> dict:
    """One webhook event as LINE sends it, with a fresh webhookEventId."""
    return {
        "type": event_type,
        "mode": "active",
        "timestamp": 1_765_000_000_000,
        "source": {"type": "user", "userId": line_user_id},
        "webhookEventId": f"01HLINEEVENT{next(_ids):014d}",
        "deliveryContext": {"isRedelivery": False},
        "replyToken": "reply-token",
        **fields,
    }


def text_message(line_user_id: str, text: str = "こんにちは") -> dict:
    return event("message", line_user_id, message={"type": "text", "id": "1", "text": text})


def account_link(line_user_id: str, nonce: str, result: str = "ok") -> dict:
    return event("accountLink", line_user_id, link={"result": result, "nonce": nonce})


def webhook_body(*events: dict) -> bytes:
    return json.dumps({"destination": "Ubot0000", "events": list(events)}).encode()
