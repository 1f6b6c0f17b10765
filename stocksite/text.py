from django.utils.functional import lazy


def _interpolate(text, values: dict) -> str:
    return str(text) % values


# `_("... %(max)d ...") % {...}` at import time would freeze one language; this waits for use.
interpolate_lazy = lazy(_interpolate, str)
