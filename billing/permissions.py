from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from billing.entitlements import entitlements_for
from stocksite.api import PaymentRequiredError


class HasApiAccess(BasePermission):
    """The API is a Pro feature: a signed-in user without it gets 402 pointing to /pricing/."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if not entitlements_for(user=request.user).api_access:
            raise PaymentRequiredError(_("The API comes with the Pro plan: see /pricing/."))
        return True
