from celery import shared_task
from django.db import connection


@shared_task(name="stocksite.ping")
def ping() -> dict:
    """Answer from a worker, with the database it sees: operators use it to check a deployment."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"pong": True, "database": connection.vendor}
