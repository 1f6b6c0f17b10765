from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission, IsAuthenticated

from billing.entitlements import api_access_for
from billing.throttling import PlanRateThrottle
from core.errors import PaymentRequiredError


class HasApiAccess(BasePermission):
    """A signed-in user whose plan has no API gets 402 with a message pointing to /pricing/."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if not api_access_for(user=request.user):
            raise PaymentRequiredError(_("The API comes with the Pro plan: see /pricing/."))
        return True


# An API endpoint for the plans with the API: signed in, the plan checked, its rate kept. (A
# comment, not a docstring: drf-spectacular would show a docstring as every endpoint's text.)
class ProApiMixin:
    permission_classes = [IsAuthenticated, HasApiAccess]
    throttle_classes = [PlanRateThrottle]
