"""Alert pages: the list under the account, the buttons that save an alert, the unsubscribe link,
and LINE's webhook and link page."""

import logging
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alerts import selectors, services
from alerts.line import gateway as line_gateway
from alerts.line import services as line_services
from alerts.line.selectors import line_status
from alerts.mail import hit_links
from alerts.models import THRESHOLD_DEFAULT, THRESHOLD_MAX, THRESHOLD_MIN, Alert
from alerts.tasks import line_event_handle
from billing.entitlements import entitlements_for
from core.errors import DomainError, InvalidInputError, NotFoundError
from market.selectors import stock_filter_choices
from similarity.forms import SearchForm
from similarity.selectors import saved_search_get
from similarity.views import PREFILL_FIELDS

logger = logging.getLogger(__name__)

ALERT_ACTIONS = ("pause", "resume", "threshold", "universe", "delete")


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
        "channels": selectors.alert_channels_get(user=request.user),
        "line": line_status(user=request.user),
        "threshold": {"min": THRESHOLD_MIN, "max": THRESHOLD_MAX, "default": THRESHOLD_DEFAULT},
        "universes": Alert.Universe.choices,
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
                universe=request.POST.get("universe"),
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
                universe=request.POST.get("universe"),
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
        elif action == "universe":
            services.alert_update(
                user=request.user, alert=alert, universe=request.POST.get("universe", "")
            )
            messages.success(request, _("The stocks checked were changed."))
        else:
            services.alert_delete(user=request.user, alert=alert)
            messages.success(request, _("Alert deleted."))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("alerts")


@login_required
@require_POST
def alert_channels(request):
    """The channels of the user's digests: mail, LINE, both or neither."""
    try:
        services.alert_channels_set(
            user=request.user,
            mail=request.POST.get("mail") == "1",
            line=request.POST.get("line") == "1",
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Alert channels saved."))
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


# --- LINE ---------------------------------------------------------------------------------------


@csrf_exempt  # LINE signs the body instead (X-Line-Signature)
@require_POST
def line_webhook(request):
    """Verify the signature on the raw body before reading anything of it; store each new event
    once and queue its handling; 200 to every signed body, 400 to a missing or wrong signature."""
    if not line_gateway.line_configured():
        raise Http404
    if not line_gateway.signature_valid(
        body=request.body, signature=request.headers.get("X-Line-Signature", "")
    ):
        logger.warning("LINE webhook: missing or wrong signature")
        return HttpResponseBadRequest()
    for event_id in line_services.line_webhook_receive(body=request.body):
        line_event_handle.delay(event_id)
    return HttpResponse(status=200)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def line_link(request):
    """Where the link message leads: after sign-in, a button that sends the user to LINE's
    account-link dialog with a nonce bound to them (a button, so that a link someone else sent
    cannot tie their LINE account to yours without you seeing it)."""
    status = line_status(user=request.user)
    if not status.configured:
        raise Http404
    link_token = request.GET.get("linkToken", "")
    context = {"status": status, "link_token": link_token}
    if not status.entitled:
        return render(request, "alerts/line_link.html", context, status=403)
    try:
        if request.method == "POST":
            return redirect(
                line_services.line_account_link_url(user=request.user, link_token=link_token)
            )
        line_services.link_token_clean(link_token)
    except InvalidInputError as error:
        context["error"] = error.message
        return render(request, "alerts/line_link.html", context, status=400)
    return render(request, "alerts/line_link.html", context)


@login_required
@require_POST
def line_unlink(request):
    if line_services.line_unlink(user=request.user):
        messages.success(request, _("Your LINE account was unlinked: alerts no longer go to LINE."))
    return redirect("alerts")
