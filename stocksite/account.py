"""The account data download: every app's section about a user, gathered here in the project
layer, where all apps are visible (each app's selector reads only its own rows)."""

from collections.abc import Iterator

from django.core.serializers.json import DjangoJSONEncoder

from accounts.selectors import account_data_export as accounts_export
from alerts.selectors import alerts_export
from alerts.watchlist.selectors import watchlist_export
from billing.selectors import billing_data_export
from similarity.selectors import saved_searches_export

SECTIONS = (
    accounts_export,
    billing_data_export,
    saved_searches_export,
    alerts_export,
    watchlist_export,
)


def account_data_export(*, user) -> dict:
    """Everything stocksite keeps about a user, section by section: JSON-ready values, the long
    lists (searches, hits, deliveries) as iterators read from the database in chunks."""
    data: dict = {}
    for section in SECTIONS:
        data.update(section(user=user))
    return data


def account_data_json(*, user) -> Iterator[str]:
    """The export as JSON text in pieces, for a streamed download: a long list is written row by
    row as the database gives it, never held whole in memory."""
    encoder = DjangoJSONEncoder(ensure_ascii=False, indent=None)
    yield "{"
    for index, (key, value) in enumerate(account_data_export(user=user).items()):
        yield ("," if index else "") + f"\n{encoder.encode(key)}: "
        if isinstance(value, Iterator):
            yield "["
            for row_index, row in enumerate(value):
                yield ("," if row_index else "") + "\n  " + encoder.encode(row)
            yield "]"
        else:
            yield encoder.encode(value)
    yield "\n}\n"
