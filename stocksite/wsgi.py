import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stocksite.settings")

application = get_wsgi_application()

from stocksite.checks import refuse_insecure_production  # noqa: E402  (needs the app registry)

refuse_insecure_production()

# The first search of this process should take as long as the second: attach the snapshot and
# load the search's kernels and libraries before serving (runserver and gunicorn both load the
# application here before their first request).
import logging  # noqa: E402

from similarity.services import search_warm_up  # noqa: E402

try:
    search_warm_up()
except Exception:  # a process that cannot warm up still serves; its searches say what is wrong
    logging.getLogger(__name__).exception("the similarity search could not be warmed up")
