"""Price sources behind one interface: the only network code of the project.

`price_source(name)` returns a source by name; every source fetches with `http.PoliteClient` and
parses with a pure function of the page text or JSON.
"""

from django.conf import settings

from market.sources.base import PriceSource, SourceError, SourceRefusedError, TransientSourceError
from market.sources.parsing import ParseError

SOURCES = {
    "jquants": "market.exchanges.tse.jquants.JQuantsSource",
    "kabutan": "market.exchanges.tse.kabutan.KabutanSource",
}


def price_source(name: str | None = None) -> PriceSource:
    from django.utils.module_loading import import_string

    return import_string(SOURCES[name or settings.MARKET_SOURCE])()


__all__ = [
    "ParseError",
    "PriceSource",
    "SourceError",
    "SourceRefusedError",
    "TransientSourceError",
    "price_source",
]
