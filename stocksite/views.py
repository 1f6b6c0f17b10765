import logging
import sys

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import InterfaceError, OperationalError, connections
from django.http import (
    HttpResponse,
    HttpResponseServerError,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.template import loader
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from rest_framework import status

from billing.selectors import plans_for_pricing
from core.api import error_body
from market.selectors import market_freshness, market_summary, stocks_by_codes
from stocksite.account import account_data_json
from stocksite.health import run_checks

logger = logging.getLogger(__name__)

# What psycopg raises (through Django) when the server is gone or the connection was cut.
DATABASE_DOWN = (OperationalError, InterfaceError)
DATABASE_RETRY_AFTER_SECONDS = 5

# Charts the home page offers to try, with the days already chosen: (code, last days).
HOME_EXAMPLES = (("7974", 60), ("7203", 120), ("6758", 20), ("9984", 250))


def home(request):
    days = dict(HOME_EXAMPLES)
    examples = [
        {"stock": stock, "days": days[stock.code]}
        for stock in stocks_by_codes(codes=[code for code, _ in HOME_EXAMPLES])
    ]
    return render(request, "home.html", {"market": market_summary(), "examples": examples})


def _legal_page(request, name: str):
    """Terms and privacy are written whole in each language (legal text reads better that way
    than cut into messages): legal/<name>_<language>.html."""
    language = "en" if (translation.get_language() or "").startswith("en") else "ja"
    return render(
        request,
        f"legal/{name}_{language}.html",
        {"operator": settings.LEGAL_SELLER, "contact": settings.LEGAL_EMAIL},
    )


@require_GET
def legal_terms(request):
    return _legal_page(request, "terms")


@require_GET
def legal_privacy(request):
    return _legal_page(request, "privacy")


@require_GET
def legal_commerce(request):
    """特定商取引法に基づく表記: the seller's facts from settings, the prices from the plans."""
    seller = {
        name: getattr(settings, f"LEGAL_{name.upper()}")
        for name in (
            "seller",
            "representative",
            "address",
            "phone",
            "email",
            "price",
            "payment",
            "delivery",
            "cancellation",
        )
    }
    return render(request, "legal/commerce.html", {"seller": seller, "plans": plans_for_pricing()})


@never_cache
@require_GET
def healthz(request):
    """200 or 503 for anyone (load balancers, monitors); what each check found, for staff only."""
    ok, checks = run_checks()
    body = {"status": "ok" if ok else "error"}
    if request.user.is_authenticated and request.user.is_staff:
        body |= {"time": timezone.now().isoformat(), "checks": checks}
    return JsonResponse(body, status=200 if ok else 503)


# What the status page calls each health check, in the order people read them.
STATUS_PARTS = (
    ("database", _lazy("Accounts and saved searches (database)")),
    ("cache", _lazy("Usage counters and sessions (cache)")),
    ("snapshot", _lazy("Similarity search (market snapshot)")),
)


@never_cache
@require_GET
def status_page(request):
    """/status/: /healthz for people, in their language; how current the prices are. Like
    /healthz for the public, it says only whether each part works, never how it is set up."""
    ok, checks = run_checks()
    parts = [
        {"name": name, "label": label, "ok": bool(checks[name].get("ok"))}
        for name, label in STATUS_PARTS
        if name in checks
    ]
    return render(
        request,
        "status.html",
        {"ok": ok, "parts": parts, "freshness": market_freshness(), "checked_at": timezone.now()},
        status=200 if ok else 503,
    )


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def page_not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse(
            error_body(
                code="not_found", message=_("No such address: %(path)s") % {"path": request.path}
            ),
            status=status.HTTP_404_NOT_FOUND,
        )
    return render(request, "404.html", status=404)


def server_error(request):
    """Django's handler500. A database that dropped the connection is a 503, not a 500."""
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        return _database_unavailable(request)
    if _wants_json(request):
        return JsonResponse(
            error_body(code="server_error", message=_("An unexpected error occurred.")),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    # No request context: whatever broke the page may also break a context processor.
    return HttpResponseServerError(loader.get_template("500.html").render())


def csrf_failure(request, reason=""):
    if _wants_json(request):
        return JsonResponse(
            error_body(
                code="csrf_failed", message=_("CSRF check failed: %(reason)s") % {"reason": reason}
            ),
            status=status.HTTP_403_FORBIDDEN,
        )
    return render(request, "403_csrf.html", {"reason": reason}, status=403)


def _database_unavailable(request):
    # This process's connection is broken: close it, so the next request opens a new one (the
    # request_finished signal would too, but only for the connections it knows are unusable).
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except DATABASE_DOWN:
            logger.warning("closing a broken %s connection failed", connection.alias)
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    if _wants_json(request):
        return JsonResponse(
            error_body(
                code="database_unavailable",
                message=_("The database is not answering; try again in a few seconds."),
            ),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers=headers,
        )
    # No request context, as for a 500: context processors read the database.
    return HttpResponse(
        loader.get_template("503.html").render(),
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers=headers,
    )


@never_cache
@login_required
def account_export(request):
    response = StreamingHttpResponse(
        account_data_json(user=request.user), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="stocksite-account.json"'
    return response
