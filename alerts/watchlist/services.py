"""The watchlist (お気に入り): writes. Pages, the API and their buttons call these.

watchlist_add(*, user, code) -> WatchlistAdded       add a stock (once; the plan bounds how many)
watchlist_remove(*, user, code) -> bool              take it out again
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from alerts.models import WatchlistEntry
from billing.entitlements import entitlements_for
from core.errors import DomainError, InvalidInputError, NotFoundError
from market.models import Stock
from market.selectors import stock_by_code

# Characters a posted code may have before it is looked up (codes are 4 or 5 characters; the
# full-width forms fold to them).
CODE_MAX_LENGTH = 16


class WatchlistLimitReached(DomainError):
    code = "watchlist_limit"
    status = 403


@dataclass(frozen=True)
class WatchlistAdded:
    entry: WatchlistEntry
    created: bool  # False: the stock was already in the watchlist


def watchlist_stock(*, code) -> Stock:
    """The stock a posted code names; bad input is a 400, an unknown code a 404."""
    if not isinstance(code, str) or not code.strip() or len(code) > CODE_MAX_LENGTH:
        raise InvalidInputError.for_field("code", _("Give a stock code such as 7203."))
    stock = stock_by_code(code=code.strip())
    if stock is None:
        message = _("No stock with code %(code)s.") % {"code": code.strip()}
        raise NotFoundError(message, fields={"code": [message]})
    return stock


@transaction.atomic
def watchlist_add(*, user, code) -> WatchlistAdded:
    """Add the stock of `code` to the user's watchlist. A stock already there is not added
    again (created=False) and never counts against the limit.

    The user's row is locked first, so that two requests at once cannot both take the last
    free place. Raises InvalidInputError, NotFoundError (unknown code) and
    WatchlistLimitReached (403) when the plan's places are all taken.
    """
    stock = watchlist_stock(code=code)
    User.objects.select_for_update().filter(pk=user.pk).first()
    existing = WatchlistEntry.objects.filter(user=user, stock=stock).first()
    if existing is not None:
        return WatchlistAdded(entry=existing, created=False)
    limits = entitlements_for(user=user)
    if WatchlistEntry.objects.filter(user=user).count() >= limits.max_watchlist:
        raise WatchlistLimitReached(
            _(
                "Your %(plan)s plan keeps %(limit)d stocks in the watchlist: remove one, "
                "or upgrade on /pricing/."
            )
            % {"plan": limits.plan_name, "limit": limits.max_watchlist}
        )
    return WatchlistAdded(entry=WatchlistEntry.objects.create(user=user, stock=stock), created=True)


def watchlist_remove(*, user, code) -> bool:
    """Take the stock of `code` out of the user's watchlist; False if it was not in it."""
    stock = watchlist_stock(code=code)
    deleted, _by_model = WatchlistEntry.objects.filter(user=user, stock=stock).delete()
    return bool(deleted)
