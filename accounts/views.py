from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import services
from accounts.forms import AccountDeleteForm
from core.errors import DomainError


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
