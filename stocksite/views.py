from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from rest_framework import status

from market.selectors import market_summary
from stocksite.api import error_body
from stocksite.health import run_checks


def home(request):
    return render(request, "home.html", {"market": market_summary()})


@never_cache
@require_GET
def healthz(request):
    """200 or 503 for anyone (load balancers, monitors); what each check found, for staff only."""
    ok, checks = run_checks()
    body = {"status": "ok" if ok else "error"}
    if request.user.is_authenticated and request.user.is_staff:
        body |= {"time": timezone.now().isoformat(), "checks": checks}
    return JsonResponse(body, status=200 if ok else 503)


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def page_not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse(
            error_body(code="not_found", message=f"No such address: {request.path}"),
            status=status.HTTP_404_NOT_FOUND,
        )
    return render(request, "404.html", status=404)


def server_error(request):
    if _wants_json(request):
        return JsonResponse(
            error_body(code="server_error", message="An unexpected error occurred."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    # No request context: whatever broke the page may also break a context processor.
    return HttpResponseServerError(loader.get_template("500.html").render())


def csrf_failure(request, reason=""):
    if _wants_json(request):
        return JsonResponse(
            error_body(code="csrf_failed", message=f"CSRF check failed: {reason}"),
            status=status.HTTP_403_FORBIDDEN,
        )
    return render(request, "403_csrf.html", {"reason": reason}, status=403)
