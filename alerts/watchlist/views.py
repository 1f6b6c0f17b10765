"""The watchlist page and the add/remove buttons of every page that lists stocks (plain form
posts that work without JavaScript; static/js/watchlist.js sends them to the API instead)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from alerts.watchlist import selectors, services
from billing.entitlements import entitlements_for
from core.errors import DomainError
from similarity.limits import LATEST_BARS_BY_INTERVAL, MIN_LENGTH
from similarity.results.charts import line_chart

CHART_WIDTH, CHART_HEIGHT = 160, 48
# Stocks a page shows: a phone scrolls through 50 charts; a Pro list of 300 takes six pages.
STOCKS_PER_PAGE = 50


@login_required
@require_GET
def watchlist(request):
    page = Paginator(selectors.watchlist_entries(user=request.user), STOCKS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "move": move,
            "change_percent": None if move.change is None else move.change * 100,
            "chart": line_chart(values=move.closes, width=CHART_WIDTH, height=CHART_HEIGHT),
        }
        for move in selectors.stock_moves(entries=page.object_list)
    ]
    return render(
        request,
        "alerts/watchlist.html",
        {
            "rows": rows,
            "page": page,
            "entitlements": entitlements_for(user=request.user),
            "chart": {"width": CHART_WIDTH, "height": CHART_HEIGHT},
            "latest_bars": LATEST_BARS_BY_INTERVAL["day"],
            "min_days": MIN_LENGTH,
        },
    )


def _back(request):
    """Where the button was pressed (`next`, a path of this site), else the watchlist."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("watchlist")


@login_required
@require_POST
def watchlist_add(request):
    try:
        added = services.watchlist_add(user=request.user, code=request.POST.get("code"))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        stock = added.entry.stock
        if added.created:
            messages.success(
                request,
                _("%(code)s %(name)s was added to your watchlist.")
                % {"code": stock.code, "name": stock.display_name},
            )
        else:
            messages.info(
                request,
                _("%(code)s %(name)s is already in your watchlist.")
                % {"code": stock.code, "name": stock.display_name},
            )
    return _back(request)


@login_required
@require_POST
def watchlist_remove(request):
    try:
        removed = services.watchlist_remove(user=request.user, code=request.POST.get("code"))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if removed:
            messages.success(
                request,
                _("%(code)s was removed from your watchlist.")
                % {"code": request.POST["code"].strip()},
            )
    return _back(request)
