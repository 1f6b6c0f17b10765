import datetime as dt
import time

import pytest
from django.core import mail

from alerts.models import Alert, AlertDelivery, AlertHit
from alerts.services import alert_create
from similarity.tasks import snapshot_rebuild

from .conftest import DAYS, spike_pattern


def wait_for_delivery(channel: str = "mail", deadline_seconds: float = 60) -> AlertDelivery | None:
    """The batches run after the rebuild task returns: wait for the digest to be sent."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        delivery = (
            AlertDelivery.objects.filter(state=AlertDelivery.State.SENT, channel=channel)
            .select_related("digest")
            .first()
        )
        if delivery is not None:
            return delivery
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
    delivery = wait_for_delivery()
    assert delivery is not None
    assert delivery.digest.data_date == synthetic_market.new_day
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
        delivery = wait_for_delivery()

        assert delivery is not None
        assert delivery.attempts == 2
        assert smtp.inbox.refused == 1
        assert [item["to"] for item in smtp.messages] == [[user.email]]


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_pushes_the_digest_to_line_and_retries_a_500_without_a_second_message(
    celery_worker, synthetic_market, line, seeded_plans, settings, django_user_model
):
    from django.utils import timezone

    from alerts.models import AlertChannelPreference, LineLink
    from billing.models import ComplimentaryGrant, Plan
    from tests.alerts.line_server import error

    settings.ALERTS_MAIL_RETRY_SECONDS = 0.2
    trader = django_user_model.objects.create_user(email="line@example.com", password="x-Pass-12!")
    ComplimentaryGrant.objects.create(
        user=trader,
        plan=Plan.objects.get(slug="pro"),
        starts_at=timezone.now() - dt.timedelta(days=1),
        ends_at=timezone.now() + dt.timedelta(days=30),
    )
    LineLink.objects.create(user=trader, line_user_id="U" + "7" * 32)
    AlertChannelPreference.objects.create(user=trader, line_enabled=True)
    alert_create(user=trader, spec={"source": "prices", "prices": spike_pattern()})
    synthetic_market.load_bars(DAYS)
    line.fail_next("push", error(500, "Internal server error"))

    snapshot_rebuild.delay().get(timeout=120)
    delivery = wait_for_delivery("line")

    assert delivery is not None
    assert delivery.attempts == 2
    assert len(line.push_requests) == 2
    assert {request["retry_key"] for request in line.push_requests} == {str(delivery.retry_key)}
    (text,) = line.texts_to("U" + "7" * 32)
    assert "1001 銘柄1001" in text
    assert wait_for_delivery("mail").attempts == 1
    assert [message.to for message in mail.outbox] == [[trader.email]]
