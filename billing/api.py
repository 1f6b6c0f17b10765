from allauth.account.adapter import get_adapter
from allauth.mfa.utils import is_mfa_enabled
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.services import api_token_rotate
from billing.entitlements import entitlements_for
from core.api import ERROR_RESPONSE
from core.errors import PaymentRequiredError


class MeOutputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    plan = serializers.CharField()
    is_paid = serializers.BooleanField()
    searches_per_day = serializers.IntegerField()
    searches_today = serializers.IntegerField()
    max_matches = serializers.IntegerField()
    history_years = serializers.IntegerField(allow_null=True)
    api_access = serializers.BooleanField()
    csv_export = serializers.BooleanField()


class MeApi(APIView):
    """The signed-in user's plan and today's usage."""

    @extend_schema(responses={200: MeOutputSerializer, 401: ERROR_RESPONSE, 403: ERROR_RESPONSE})
    def get(self, request):
        limits = entitlements_for(user=request.user)
        data = {
            "email": request.user.email,
            "plan": limits.plan_name,
            "is_paid": limits.is_paid,
            "searches_per_day": limits.searches_per_day,
            "searches_today": limits.searches_today,
            "max_matches": limits.max_matches,
            "history_years": limits.history_years,
            "api_access": limits.api_access,
            "csv_export": limits.csv_export,
        }
        return Response(MeOutputSerializer(data).data)


class TokenInputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()


class TokenApi(APIView):
    """Exchange an email and password for an API token (Pro plan). A new call replaces the key.

    Password guesses count against the same limits as the login form (allauth's per-address and
    per-account `login_failed`), on top of this view's own rate per client address. An account
    with two-factor authentication gets its token from the account page, never for a password
    alone.
    """

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(
        request=TokenInputSerializer,
        responses={
            201: TokenOutputSerializer,
            400: ERROR_RESPONSE,
            402: ERROR_RESPONSE,
            403: ERROR_RESPONSE,
            429: ERROR_RESPONSE,
        },
    )
    def post(self, request):
        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = get_adapter(request._request).authenticate(
                request._request,
                email=serializer.validated_data["email"],
                password=serializer.validated_data["password"],
            )
        except DjangoValidationError as exc:  # allauth's "too many failed login attempts"
            raise exceptions.Throttled(detail=" ".join(exc.messages)) from exc
        if user is None or not user.is_active:
            raise exceptions.ValidationError(_("The email or the password is wrong."))
        if is_mfa_enabled(user):
            raise exceptions.PermissionDenied(
                _("Your account uses two-factor authentication: create the token on /account/.")
            )
        if not entitlements_for(user=user).api_access:
            raise PaymentRequiredError(_("API tokens come with the Pro plan: see /pricing/."))
        key = api_token_rotate(user=user)
        return Response(TokenOutputSerializer({"token": key}).data, status=201)
