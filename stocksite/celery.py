"""The Celery application: configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stocksite.settings")

app = Celery("stocksite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _refuse_insecure_production(**kwargs) -> None:
    # Celery's only start-up hook: a worker sends the alert and reset emails too.
    from stocksite.checks import refuse_insecure_production

    refuse_insecure_production()
