import abc
import datetime
from dataclasses import dataclass

from market.bars import Bar


class SourceError(Exception):
    """A site could not give what was asked; the message says why, for the ScrapeRun."""


class TransientSourceError(SourceError):
    """Timeouts, 5xx and 429 that outlasted the retries: worth trying again later."""


@dataclass(frozen=True)
class StockProfile:
    code: str
    name: str
    market_label: str = ""


class PriceSource(abc.ABC):
    """One site. `fetch_daily_bars` returns bars oldest first, as the site shows them.

    `shows_adjusted_history` says whether the site shows past days adjusted for later splits
    (then the bars carry no adj_close and splits are found by comparing overlapping days) or
    gives an adjusted close of its own (then bars carry adj_close).
    """

    name: str
    shows_adjusted_history: bool = True

    @abc.abstractmethod
    def fetch_daily_bars(self, code: str, *, since: datetime.date | None) -> list[Bar]:
        """Every day from `since` (inclusive) to the latest; recent pages only if None."""

    @abc.abstractmethod
    def fetch_profile(self, code: str) -> StockProfile:
        """The stock's name and market as the site shows them."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections; a source is not used after this."""
