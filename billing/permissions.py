from functools import wraps

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from billing.entitlements import entitlements_for
from stocksite.api import PaymentRequiredError

FEATURE_MESSAGES = {
    "api_access": _("The API comes with the Pro plan: see /pricing/."),
    "csv_export": _("CSV export comes with the Pro plan: see /pricing/."),
    "all_horizons": _("Outcomes for every horizon come with the Pro plan: see /pricing/."),
}


class _HasFeature(BasePermission):
    """A signed-in user without the feature gets 402 with a message pointing to /pricing/."""

    feature: str

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if not getattr(entitlements_for(user=request.user), self.feature):
            raise PaymentRequiredError(FEATURE_MESSAGES[self.feature])
        return True


class HasApiAccess(_HasFeature):
    feature = "api_access"


class HasCsvExport(_HasFeature):
    feature = "csv_export"


def feature_required(feature: str):
    """For page views: answer 402 with the upgrade page unless the user's plan has `feature`.

    Use below @login_required.
    """
    message = FEATURE_MESSAGES[feature]

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not getattr(entitlements_for(user=request.user), feature):
                return render(
                    request, "billing/upgrade_required.html", {"message": message}, status=402
                )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
