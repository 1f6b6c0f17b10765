"""The account data download: every app's section about a user, gathered here in the project
layer, where all apps are visible (each app's selector reads only its own rows)."""

from accounts.selectors import account_data_export as accounts_export
from alerts.selectors import alerts_export
from billing.selectors import billing_data_export
from similarity.selectors import saved_searches_export

SECTIONS = (accounts_export, billing_data_export, saved_searches_export, alerts_export)


def account_data_export(*, user) -> dict:
    """Everything stocksite keeps about a user, as JSON-ready data, section by section."""
    data: dict = {}
    for section in SECTIONS:
        data.update(section(user=user))
    return data
