import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts import selectors as accounts_selectors
from accounts import services as accounts_services
from billing import gateway, selectors, services, subscriptions
from billing.entitlements import PAST_DUE_GRACE, entitlements_for
from billing.models import Plan, StripeEventState
from core.api import error_body

logger = logging.getLogger(__name__)


def pricing(request):
    return render(
        request,
        "billing/pricing.html",
        {
            "plans": selectors.plans_for_pricing(),
            "payments_configured": gateway.payments_configured(),
            "entitlements": entitlements_for(user=request.user),
            "grace_days": PAST_DUE_GRACE.days,
        },
    )


@login_required
@require_POST
def checkout(request):
    plan = get_object_or_404(Plan, slug=request.POST.get("plan", ""), is_public=True)
    try:
        url = services.checkout_session_start(
            user=request.user, plan=plan, interval=request.POST.get("interval", "")
        )
    except services.BillingError as exc:
        messages.error(request, exc.message)
        return redirect("pricing")
    except gateway.StripeError:
        logger.exception("Stripe refused a checkout session")
        messages.error(request, services.BillingError.default_message)
        return redirect("pricing")
    return redirect(url)


@login_required
def checkout_success(request):
    # Thanks only: access follows Stripe's webhook, never this page or its query string.
    return render(
        request, "billing/success.html", {"entitlements": entitlements_for(user=request.user)}
    )


@login_required
@require_POST
def portal(request):
    try:
        url = services.portal_session_start(user=request.user)
    except services.BillingError as exc:
        messages.error(request, exc.message)
        return redirect("account")
    except gateway.StripeError:
        logger.exception("Stripe refused a portal session")
        messages.error(request, services.BillingError.default_message)
        return redirect("account")
    return redirect(url)


@csrf_exempt
@require_POST
def webhook(request):
    try:
        event = gateway.webhook_event_construct(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except (ValueError, gateway.SignatureVerificationError) as exc:
        logger.info("Stripe webhook refused: %s", exc)
        return JsonResponse(
            error_body(
                code="bad_signature", message="The Stripe signature is missing, wrong or too old."
            ),
            status=400,
        )
    stored, created = subscriptions.stripe_event_record(event=event)
    if not created and stored.state in (StripeEventState.PROCESSED, StripeEventState.IGNORED):
        return JsonResponse({"received": True, "duplicate": True})
    # A new event, or a redelivery of one that failed or whose processing never finished; the
    # row lock in stripe_event_process makes a concurrent copy wait and then find it done.
    stored = subscriptions.stripe_event_process(stripe_event=stored)
    if stored.state == StripeEventState.FAILED:
        # Stripe retries on 5xx; the redelivery finds the failed row and processes it again.
        return HttpResponse(status=500)
    return JsonResponse({"received": True, "state": stored.state})


# The new key waits in the server-side session for the one page that shows it.
NEW_TOKEN_SESSION_KEY = "accounts:new_api_token"


@never_cache
@login_required
def account(request):
    return render(
        request,
        "accounts/account.html",
        {
            "entitlements": entitlements_for(user=request.user),
            "api_token": accounts_selectors.api_token_get(user=request.user),
            "new_api_token": request.session.pop(NEW_TOKEN_SESSION_KEY, None),
            "subscription": selectors.subscription_latest(user=request.user),
            "payments_configured": gateway.payments_configured(),
            "has_billing_customer": selectors.billing_customer_exists(user=request.user),
        },
    )


@login_required
@require_POST
def api_token_rotate(request):
    if not entitlements_for(user=request.user).api_access:
        messages.error(request, _("API tokens come with the Pro plan."))
        return redirect("account")
    request.session[NEW_TOKEN_SESSION_KEY] = accounts_services.api_token_rotate(user=request.user)
    messages.success(request, _("A new API token was created. The old one no longer works."))
    return redirect("account")


@login_required
@require_POST
def api_token_revoke(request):
    accounts_services.api_token_revoke(user=request.user)
    messages.success(request, _("Your API token was revoked."))
    return redirect("account")
