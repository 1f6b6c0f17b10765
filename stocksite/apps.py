from django.apps import AppConfig


class StocksiteConfig(AppConfig):
    name = "stocksite"
    verbose_name = "stocksite"

    def ready(self) -> None:
        from stocksite import (
            checks,  # noqa: F401  (registers the system checks)
            pipeline,
        )

        pipeline.connect()
