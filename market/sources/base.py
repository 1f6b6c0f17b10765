import abc
import datetime

from market.bars import Bar


class SourceError(Exception):
    """A site could not give what was asked; the message says why, for the ScrapeRun."""


class TransientSourceError(SourceError):
    """Timeouts, 5xx and 429 that outlasted the retries: worth trying again later."""


class SourceRefusedError(SourceError):
    """The source refused us for good (a bad key, data outside the plan): never retried, and
    whatever asked for it stops at once."""


class PriceSource(abc.ABC):
    """One site. `fetch_daily_bars` returns one stock's bars oldest first."""

    name: str

    @abc.abstractmethod
    def fetch_daily_bars(self, code: str, *, since: datetime.date | None) -> list[Bar]:
        """Every day from `since` (inclusive) to the latest; recent pages only if None."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections; a source is not used after this."""
