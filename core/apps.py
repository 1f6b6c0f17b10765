from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares, at the bottom of the layers: domain errors, the API's error format,
    parsers, text folding, formats and template filters. It imports no other app."""

    name = "core"
    verbose_name = "core"
