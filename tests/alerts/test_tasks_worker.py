import time

import pytest
from django.core import mail

from alerts.models import Alert, AlertDigest, AlertHit
from alerts.services import alert_create
from similarity.tasks import snapshot_rebuild

from .conftest import DAYS, spike_pattern


def wait_for_digest(deadline_seconds: float = 60) -> AlertDigest | None:
    """The batches run after the rebuild task returns: wait for the digest to be sent."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        digest = AlertDigest.objects.filter(state=AlertDigest.State.SENT).first()
        if digest is not None:
            return digest
        time.sleep(0.2)
    return None


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_snapshot_rebuild_with_a_new_day_runs_the_alerts_on_a_real_worker(
    celery_worker, synthetic_market, user
):
    alert = alert_create(user=user, spec={"source": "prices", "prices": spike_pattern()})
    synthetic_market.load_bars(DAYS)

    result = snapshot_rebuild.delay().get(timeout=120)

    assert result["date"] == synthetic_market.new_day.isoformat()
    assert result["date_advanced"] is True
    digest = wait_for_digest()
    assert digest is not None
    assert digest.data_date == synthetic_market.new_day
    assert list(AlertHit.objects.values_list("code", flat=True)) == ["1001"]
    alert.refresh_from_db()
    assert alert.last_checked_date == synthetic_market.new_day
    assert [message.to for message in mail.outbox] == [[user.email]]

    # The same data again (staff's "sync now" with nothing new): no run, no mail.
    again = snapshot_rebuild.delay().get(timeout=120)
    assert again["date_advanced"] is False
    time.sleep(1)
    assert len(mail.outbox) == 1
    assert Alert.objects.get().last_checked_date == synthetic_market.new_day


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_retries_a_digest_the_smtp_server_refused(
    celery_worker, synthetic_market, user, settings
):
    from .smtp_server import SMTPServer

    settings.ALERTS_MAIL_RETRY_SECONDS = 0.2
    alert_create(user=user, spec={"source": "prices", "prices": spike_pattern()})
    synthetic_market.load_bars(DAYS)
    with SMTPServer(refuse=1) as smtp:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
        settings.EMAIL_USE_TLS = False

        snapshot_rebuild.delay().get(timeout=120)
        digest = wait_for_digest()

        assert digest is not None
        assert digest.attempts == 2
        assert smtp.inbox.refused == 1
        assert [item["to"] for item in smtp.messages] == [[user.email]]
