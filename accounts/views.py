from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import AccountDeleteForm
from billing import gateway as billing_gateway
from billing import selectors as billing_selectors
from billing.entitlements import entitlements_for
from stocksite.errors import DomainError

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
            "api_token": selectors.api_token_get(user=request.user),
            "new_api_token": request.session.pop(NEW_TOKEN_SESSION_KEY, None),
            "subscription": billing_selectors.subscription_latest(user=request.user),
            "payments_configured": billing_gateway.payments_configured(),
            "has_billing_customer": billing_selectors.billing_customer_exists(user=request.user),
        },
    )


@login_required
@require_POST
def api_token_rotate(request):
    if not entitlements_for(user=request.user).api_access:
        messages.error(request, _("API tokens come with the Pro plan."))
        return redirect("account")
    request.session[NEW_TOKEN_SESSION_KEY] = services.api_token_rotate(user=request.user)
    messages.success(request, _("A new API token was created. The old one no longer works."))
    return redirect("account")


@login_required
@require_POST
def api_token_revoke(request):
    services.api_token_revoke(user=request.user)
    messages.success(request, _("Your API token was revoked."))
    return redirect("account")


@never_cache
@login_required
def account_export(request):
    response = JsonResponse(
        selectors.account_data_export(user=request.user),
        encoder=DjangoJSONEncoder,
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )
    response["Content-Disposition"] = 'attachment; filename="stocksite-account.json"'
    return response


@never_cache
@login_required
def account_delete(request):
    form = AccountDeleteForm(request.POST or None, user=request.user)
    status = 400 if form.is_bound else 200
    if request.method == "POST" and form.is_valid():
        try:
            services.account_delete(user=request.user)
        except DomainError as error:
            form.add_error(None, error.message)
            status = error.status
        else:
            logout(request)
            messages.success(request, _("Your account and its data were deleted."))
            return redirect("home")
    return render(request, "accounts/delete.html", {"form": form}, status=status)


@require_POST
def language_set(request):
    """Django's set_language (cookie, redirect back); also saves a signed-in user's choice."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        services.user_language_set(user=request.user, language=language)
    return response
