"""The one HTTP client of the price sources: timeouts, a User-Agent, a polite rate, retries,
and the limits a hostile or broken server cannot push past (same-host redirects only, a size cap
on every response, a deadline on every fetch)."""

import email.utils
import threading
import time
from collections.abc import Callable, Collection
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from market.sources.base import SourceError, SourceRefusedError, TransientSourceError

MAX_REDIRECTS = 5


class HostRateLimiter:
    """At most `rate` requests a second to each host, from this process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._next_allowed: dict[str, float] = {}

    def wait(self, host: str, rate: float, sleep: Callable[[float], None]) -> None:
        interval = 1.0 / rate if rate > 0 else 0.0
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_allowed.get(host, now))
            self._next_allowed[host] = start + interval
        if start > now:
            sleep(start - now)


RATE_LIMITER = HostRateLimiter()


class PoliteClient:
    """GET from one site. Retries timeouts, connection errors and 5xx with exponential
    back-off; after a 429 waits as long as its Retry-After says (capped), else `retry_wait_429`
    (else the back-off); raises SourceRefusedError at once on `refused_statuses`, SourceError on
    other 4xx, on a redirect to another host and on a response over the size cap, and
    TransientSourceError when the retries or the fetch's deadline run out."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        rate_per_second: float | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        backoff_seconds: float | None = None,
        retry_after_max_seconds: float | None = None,
        retry_wait_429: float | None = None,
        headers: dict[str, str] | None = None,
        refused_statuses: Collection[int] = (),
        max_response_bytes: int | None = None,
        deadline_seconds: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ):
        self.base_url = (base_url or settings.SCRAPE_BASE_URL).rstrip("/")
        self.rate = settings.SCRAPE_RATE_PER_SECOND if rate_per_second is None else rate_per_second
        self.max_retries = settings.SCRAPE_MAX_RETRIES if max_retries is None else max_retries
        self.backoff = (
            settings.SCRAPE_BACKOFF_SECONDS if backoff_seconds is None else backoff_seconds
        )
        self.retry_after_max = (
            settings.SCRAPE_RETRY_AFTER_MAX_SECONDS
            if retry_after_max_seconds is None
            else retry_after_max_seconds
        )
        self.retry_wait_429 = retry_wait_429
        self.refused_statuses = frozenset(refused_statuses)
        self.max_bytes = (
            settings.SCRAPE_MAX_RESPONSE_BYTES if max_response_bytes is None else max_response_bytes
        )
        self.deadline_seconds = (
            settings.SCRAPE_DEADLINE_SECONDS if deadline_seconds is None else deadline_seconds
        )
        self.timeout = settings.SCRAPE_TIMEOUT_SECONDS if timeout is None else timeout
        self.sleep = sleep
        split = urlsplit(self.base_url)
        self.origin = (split.scheme, split.netloc)
        self.host = split.netloc
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=self.timeout,
            headers={
                "User-Agent": settings.SCRAPE_USER_AGENT,
                "Accept-Language": "ja",
                **(headers or {}),
            },
            follow_redirects=False,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def url(self, path: str, params: dict | None = None) -> str:
        return str(self._client.build_request("GET", path, params=params).url)

    def get_text(self, path: str, *, params: dict | None = None) -> str:
        content, encoding = self.get_bytes(path, params=params)
        return content.decode(encoding or "utf-8", errors="replace")

    def get_bytes(self, path: str, *, params: dict | None = None) -> tuple[bytes, str | None]:
        """The body of a 2xx answer and its declared encoding."""
        url = self.url(path, params)
        deadline = time.monotonic() + self.deadline_seconds
        problem = ""
        for attempt in range(self.max_retries + 1):
            RATE_LIMITER.wait(self.host, self.rate, self.sleep)
            delay = self.backoff * 2**attempt
            try:
                status, headers, content, encoding = self._get_following(url, deadline)
            except httpx.TimeoutException:
                problem = f"timed out after {self.timeout}s"
            except httpx.TransportError as exc:
                problem = f"connection failed ({exc.__class__.__name__}: {exc})"
            else:
                if status == 429:
                    problem = "answered 429 Too Many Requests"
                    retry_after = _retry_after_seconds(headers.get("Retry-After"))
                    if retry_after is not None:
                        delay = min(retry_after, self.retry_after_max)
                    elif self.retry_wait_429 is not None:
                        delay = self.retry_wait_429
                elif status >= 500:
                    problem = f"answered {status}"
                elif status in self.refused_statuses:
                    raise SourceRefusedError(f"{url} answered {status}: {_excerpt(content)}")
                elif status >= 400:
                    raise SourceError(f"{url} answered {status}: {_excerpt(content)}")
                else:
                    return content, encoding
            if attempt < self.max_retries:
                if time.monotonic() + delay > deadline:
                    raise TransientSourceError(
                        f"{url} {problem}; gave up at the {self.deadline_seconds:g}s deadline"
                    )
                self.sleep(delay)
        raise TransientSourceError(f"{url} {problem} ({self.max_retries + 1} attempts)")

    def _get_following(self, url: str, deadline: float):
        for _hop in range(MAX_REDIRECTS + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise httpx.ReadTimeout("the fetch's deadline passed")
            with self._client.stream("GET", url, timeout=min(self.timeout, remaining)) as response:
                if response.is_redirect:
                    target = response.url.join(response.headers["Location"])
                    if (target.scheme, target.netloc.decode()) != self.origin:
                        raise SourceError(
                            f"{url} redirects to {target.scheme}://{target.netloc.decode()}, "
                            f"not {self.host}: not followed"
                        )
                    url = str(target)
                    continue
                content = self._read_capped(response, url, deadline)
                return response.status_code, response.headers, content, response.encoding
        raise SourceError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _read_capped(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise SourceError(f"{url} sends {declared} bytes, more than {self.max_bytes}")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise SourceError(f"{url} sends more than {self.max_bytes} bytes: refused")
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("the fetch's deadline passed while reading")
            chunks.append(chunk)
        return b"".join(chunks)


def _excerpt(content: bytes) -> str:
    return content[:200].decode("utf-8", errors="replace").strip()


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
