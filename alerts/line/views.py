"""LINE's webhook and the account-link page."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from alerts.line import gateway, selectors, services
from alerts.tasks import line_event_handle
from stocksite.errors import InvalidInputError

logger = logging.getLogger(__name__)


@csrf_exempt  # LINE signs the body instead (X-Line-Signature)
@require_POST
def line_webhook(request):
    """Verify the signature on the raw body before reading anything of it; store each new event
    once and queue its handling; 200 to every signed body, 400 to a missing or wrong signature."""
    if not gateway.line_configured():
        raise Http404
    if not gateway.signature_valid(
        body=request.body, signature=request.headers.get("X-Line-Signature", "")
    ):
        logger.warning("LINE webhook: missing or wrong signature")
        return HttpResponseBadRequest()
    for event_id in services.line_webhook_receive(body=request.body):
        line_event_handle.delay(event_id)
    return HttpResponse(status=200)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def line_link(request):
    """Where the link message leads: after sign-in, a button that sends the user to LINE's
    account-link dialog with a nonce bound to them (a button, so that a link someone else sent
    cannot tie their LINE account to yours without you seeing it)."""
    status = selectors.line_status(user=request.user)
    if not status.configured:
        raise Http404
    link_token = request.GET.get("linkToken", "")
    context = {"status": status, "link_token": link_token}
    if not status.entitled:
        return render(request, "alerts/line_link.html", context, status=403)
    if request.method == "POST":
        try:
            return redirect(
                services.line_account_link_url(user=request.user, link_token=link_token)
            )
        except InvalidInputError as error:
            context["error"] = error.message
            return render(request, "alerts/line_link.html", context, status=400)
    if not services.LINK_TOKEN_PATTERN.fullmatch(link_token):
        context["error"] = _(
            "This LINE link is not valid. Send a message to our LINE account for a new one."
        )
        return render(request, "alerts/line_link.html", context, status=400)
    return render(request, "alerts/line_link.html", context)


@login_required
@require_POST
def line_unlink(request):
    if services.line_unlink(user=request.user):
        messages.success(request, _("Your LINE account was unlinked: alerts go by mail only."))
    return redirect("alerts")
