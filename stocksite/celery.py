"""The Celery application: configuration comes from Django settings (CELERY_* names)."""

import logging
import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stocksite.settings")

app = Celery("stocksite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _refuse_insecure_production(**kwargs) -> None:
    # A worker sends the alert and reset emails too. Celery logs and swallows a handler's
    # exceptions, but not SystemExit.
    from django.core.exceptions import ImproperlyConfigured

    from stocksite.checks import refuse_insecure_production

    try:
        refuse_insecure_production()
    except ImproperlyConfigured as exc:
        raise SystemExit(str(exc)) from exc


@worker_process_init.connect
def _warm_up_search(**kwargs) -> None:
    # Alerts search in the worker: its first search should not pay seconds of loading either.
    from similarity.services import search_warm_up

    try:
        search_warm_up()
    except Exception:  # a worker that cannot warm up still works; its first search is slower
        logging.getLogger(__name__).exception("the similarity search could not be warmed up")
