"""One error shape for every 4xx of the API.

    {"error": {"code": "invalid", "message": "...", "fields": {"prices": ["..."]}}}

`code` is a stable machine-readable word, `message` a sentence for a person, and `fields` is
present only when input failed validation. Services raise `core.errors.DomainError`
subclasses (plain Python), DRF raises its own exceptions; this handler is the one place that turns
both into responses.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from core.errors import DomainError


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            message = _first_message(value)
            if message:
                return message if key == "non_field_errors" else f"{key}: {message}"
        return ""
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else ""
    return str(detail)


def _codes(detail):
    if isinstance(detail, dict):
        return {key: _codes(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_codes(item) for item in detail]
    return getattr(detail, "code", "invalid")


def error_body(*, code: str, message: str, fields: dict | None = None) -> dict:
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        set_rollback()
        body = error_body(code=exc.code, message=exc.message, fields=exc.field_messages())
        return Response(body, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    if isinstance(exc, exceptions.ValidationError):
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        fields = {key: [str(item) for item in _as_list(value)] for key, value in fields.items()}
        body = error_body(
            code="invalid",
            message=_first_message(detail) or str(_("Invalid input.")),
            fields=fields,
        )
    else:
        codes = _codes(detail)
        code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
        body = error_body(code=code, message=_first_message(detail))
    response.data = body
    return response


def _as_list(value):
    if isinstance(value, dict):
        return [_first_message(value)]
    return value if isinstance(value, list) else [value]


ERROR_RESPONSE = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField()), required=False
                ),
            },
        )
    },
)

# Every error status the API's endpoints can answer, for their OpenAPI responses.
ERROR_RESPONSES = {
    400: ERROR_RESPONSE,
    401: ERROR_RESPONSE,
    402: ERROR_RESPONSE,
    403: ERROR_RESPONSE,
    404: ERROR_RESPONSE,
    429: ERROR_RESPONSE,
    503: ERROR_RESPONSE,  # the snapshot is not built yet
}
