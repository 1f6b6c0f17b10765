import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stocksite.settings")

application = get_wsgi_application()

from stocksite.checks import refuse_insecure_production  # noqa: E402  (needs the app registry)

refuse_insecure_production()
