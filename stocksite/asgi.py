import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stocksite.settings")

application = get_asgi_application()

from stocksite.checks import refuse_insecure_production  # noqa: E402  (needs the app registry)

refuse_insecure_production()
