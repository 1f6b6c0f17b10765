import pytest

from stocksite.tasks import ping


@pytest.mark.celery_worker
def test_a_task_runs_through_a_real_worker_on_redis(celery_worker):
    result = ping.delay()

    assert (
        result.get(timeout=30) == {"pong": True, "database": "postgresql"}
        or result.get(timeout=30)["pong"]
    )


def test_celery_uses_redis_when_redis_url_is_set(settings):
    from stocksite.celery import app

    if settings.REDIS_URL:
        assert app.conf.broker_url == settings.REDIS_URL
        assert app.conf.result_backend == settings.REDIS_URL
    else:
        assert app.conf.task_always_eager is True
