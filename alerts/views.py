"""Alert pages: the list under the account, the buttons that save an alert, the unsubscribe link."""

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alerts import selectors, services
from alerts.mail import hit_links
from alerts.models import THRESHOLD_DEFAULT, THRESHOLD_MAX, THRESHOLD_MIN
from billing.entitlements import entitlements_for
from market.selectors import stock_filter_choices
from similarity.forms import SearchForm
from similarity.selectors import saved_search_get
from similarity.views import PREFILL_FIELDS
from stocksite.errors import DomainError, NotFoundError

ALERT_ACTIONS = ("pause", "resume", "threshold", "delete")


@login_required
@require_GET
def alert_list(request):
    alerts = list(selectors.alert_list(user=request.user))
    latest = selectors.alert_latest_hits(alerts=alerts)
    rows = [
        {
            "alert": alert,
            "hits": [{"hit": hit, **hit_links(hit)} for hit in latest[alert.pk]],
        }
        for alert in alerts
    ]
    context = {
        "rows": rows,
        "entitlements": entitlements_for(user=request.user),
        "active_count": sum(alert.is_active for alert in alerts),
        "mails_enabled": services.alert_mails_enabled(user=request.user),
        "threshold": {"min": THRESHOLD_MIN, "max": THRESHOLD_MAX, "default": THRESHOLD_DEFAULT},
    }
    return render(request, "alerts/alerts.html", context)


@login_required
@require_POST
def alert_create(request):
    """Save an alert from a results page (`search_id`) or from the search form's fields."""
    try:
        if request.POST.get("search_id"):
            saved = saved_search_get(user=request.user, search_id=request.POST["search_id"])
            options = saved.options or {}
            services.alert_create(
                user=request.user,
                spec=saved.spec,
                name=saved.label,
                segment=options.get("segment", ""),
                sector=options.get("sector", ""),
                min_turnover=options.get("min_turnover", 0),
            )
        else:
            segments, sectors = stock_filter_choices()
            form = SearchForm(request.POST, segments=segments, sectors=sectors)
            if not form.is_valid():
                messages.error(
                    request,
                    _("Please check the pattern: %(errors)s")
                    % {
                        "errors": "; ".join(
                            str(e) for errors in form.errors.values() for e in errors
                        )
                    },
                )
                prefill = {k: request.POST[k] for k in PREFILL_FIELDS if request.POST.get(k)}
                return redirect(f"/search/?{urlencode(prefill)}" if prefill else "/search/")
            options = form.options()
            services.alert_create(
                user=request.user,
                spec=form.spec(),
                segment=options["segment"],
                sector=options["sector"],
                min_turnover=options["min_turnover"],
            )
    except DomainError as error:
        messages.error(request, error.message)
        back = _search_id(request.POST.get("search_id"))
        return redirect("search_result", search_id=back) if back else redirect("alerts")
    messages.success(
        request, _("Alert saved: you will get a mail when a stock looks like this after the close.")
    )
    return redirect("alerts")


def _search_id(text: str | None) -> uuid.UUID | None:
    """A posted search id, if it is one: anything else never reaches a URL."""
    try:
        return uuid.UUID(text or "")
    except ValueError:
        return None


def _own_alert(request, alert_id: int):
    try:
        return selectors.alert_get(user=request.user, alert_id=alert_id)
    except NotFoundError:
        raise Http404(_("No alert with this id.")) from None


@login_required
@require_POST
def alert_change(request, alert_id: int, action: str):
    alert = _own_alert(request, alert_id)
    try:
        if action == "pause":
            services.alert_update(user=request.user, alert=alert, active=False)
            messages.success(request, _("Alert paused."))
        elif action == "resume":
            services.alert_update(user=request.user, alert=alert, active=True)
            messages.success(request, _("Alert resumed."))
        elif action == "threshold":
            try:
                threshold = float(request.POST.get("threshold", ""))
            except ValueError:
                threshold = request.POST.get("threshold")
            services.alert_update(user=request.user, alert=alert, threshold=threshold)
            messages.success(request, _("Threshold changed."))
        else:
            services.alert_delete(user=request.user, alert=alert)
            messages.success(request, _("Alert deleted."))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("alerts")


@login_required
@require_POST
def alert_mails(request):
    enabled = request.POST.get("enabled") == "1"
    services.alert_mails_set(user=request.user, enabled=enabled)
    messages.success(request, _("Alert mails on.") if enabled else _("Alert mails off."))
    return redirect("alerts")


def _email_masked(email: str) -> str:
    """t***@example.com: enough for the owner to recognise, not for whoever holds the link."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


@csrf_exempt  # RFC 8058: mail clients POST here without a session or a CSRF token.
@never_cache  # it shows whose mails these are
@require_http_methods(["GET", "POST"])
def alerts_unsubscribe(request, token: str):
    """GET shows a one-button page (link scanners must not unsubscribe anyone); POST, from that
    button or from a mail client's one-click unsubscribe, pauses the user's alert mails."""
    try:
        if request.method == "GET":
            user = selectors.alert_unsubscribe_user(token=token)
            return render(
                request,
                "alerts/unsubscribe.html",
                {"token": token, "email": _email_masked(user.email)},
            )
        user = services.alert_mails_unsubscribe(token=token)
    except NotFoundError as error:
        return render(request, "alerts/unsubscribe.html", {"error": error.message}, status=404)
    return render(
        request, "alerts/unsubscribe.html", {"done": True, "email": _email_masked(user.email)}
    )
