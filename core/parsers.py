from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with nesting too deep for Python's parser (`"[" * 50000`) answered as
    the 400 of any other malformed body instead of a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError(
                _("JSON parse error - the JSON is nested too deeply.")
            ) from exc


class AnyTypeJSONParser(JSONParser):
    """Reads the body as JSON whatever its Content-Type (`curl -d` sends a form type)."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except exceptions.ParseError as exc:
            raise exceptions.ParseError(
                _("The body is not JSON: %(error)s") % {"error": exc.detail}
            ) from exc
