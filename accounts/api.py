from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.services import api_token_rotate
from billing.entitlements import entitlements_for
from stocksite.api import ERROR_RESPONSE
from stocksite.errors import PaymentRequiredError


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
    """Exchange an email and password for an API token (Pro plan). A new call replaces the key."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(
        request=TokenInputSerializer,
        responses={
            201: TokenOutputSerializer,
            400: ERROR_RESPONSE,
            403: ERROR_RESPONSE,
        },
    )
    def post(self, request):
        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request,
            email=serializer.validated_data["email"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise exceptions.ValidationError(_("The email or the password is wrong."))
        if not entitlements_for(user=user).api_access:
            raise PaymentRequiredError(_("API tokens come with the Pro plan: see /pricing/."))
        token = api_token_rotate(user=user)
        return Response(TokenOutputSerializer({"token": token.key}).data, status=201)
