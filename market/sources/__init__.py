"""Price sites behind one interface: the only network code of the project.

`price_source(name)` returns a source by name; every source fetches with `http.PoliteClient` and
parses with a pure function of the page text.
"""

from market.sources.base import PriceSource, SourceError, StockProfile, TransientSourceError
from market.sources.parsing import ParseError

SOURCES = {"kabutan": "market.sources.kabutan.KabutanSource"}
DEFAULT_SOURCE = "kabutan"


def price_source(name: str = DEFAULT_SOURCE) -> PriceSource:
    from django.utils.module_loading import import_string

    return import_string(SOURCES[name])()


__all__ = [
    "DEFAULT_SOURCE",
    "ParseError",
    "PriceSource",
    "SourceError",
    "StockProfile",
    "TransientSourceError",
    "price_source",
]
