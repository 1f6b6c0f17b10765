"""The one HTTP client of the scrapers: timeouts, a User-Agent, a polite rate, retries."""

import email.utils
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from market.sources.base import SourceError, TransientSourceError


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
    """GET pages of one site. Retries timeouts, connection errors and 5xx with exponential
    back-off, waits as long as a 429's Retry-After says (capped), and raises SourceError on
    other 4xx and TransientSourceError when the retries run out."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        rate_per_second: float | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        backoff_seconds: float | None = None,
        retry_after_max_seconds: float | None = None,
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
        self.sleep = sleep
        self.host = urlsplit(self.base_url).netloc
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=settings.SCRAPE_TIMEOUT_SECONDS if timeout is None else timeout,
            headers={"User-Agent": settings.SCRAPE_USER_AGENT, "Accept-Language": "ja"},
            follow_redirects=True,
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
        url = self.url(path, params)
        problem = ""
        for attempt in range(self.max_retries + 1):
            RATE_LIMITER.wait(self.host, self.rate, self.sleep)
            delay = self.backoff * 2**attempt
            try:
                response = self._client.get(path, params=params)
            except httpx.TimeoutException:
                problem = f"timed out after {self._client.timeout.read}s"
            except httpx.TransportError as exc:
                problem = f"connection failed ({exc.__class__.__name__}: {exc})"
            else:
                status = response.status_code
                if status == 429:
                    problem = "answered 429 Too Many Requests"
                    retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
                    if retry_after is not None:
                        delay = min(retry_after, self.retry_after_max)
                elif status >= 500:
                    problem = f"answered {status}"
                elif status >= 400:
                    raise SourceError(f"{url} answered {status}")
                else:
                    return response.text
            if attempt < self.max_retries:
                self.sleep(delay)
        raise TransientSourceError(f"{url} {problem} ({self.max_retries + 1} attempts)")


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
