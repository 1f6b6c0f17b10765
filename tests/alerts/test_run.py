import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from alerts.models import Alert, AlertDelivery, AlertDigest, AlertHit
from alerts.runs import alert_deliveries_send, alerts_check
from alerts.services import alert_create
from billing.models import ComplimentaryGrant, Plan

from .conftest import DAYS, spike_pattern


@pytest.fixture
def spike_alert(user, synthetic_market):
    return alert_create(user=user, spec={"source": "prices", "prices": spike_pattern()})


def run():
    checked = alerts_check()
    return checked, alert_deliveries_send()


def test_a_stock_that_crosses_the_threshold_only_on_the_new_day(
    user, synthetic_market, spike_alert
):
    checked, _mails = run()
    assert checked.data_date == synthetic_market.previous_day
    before = set(AlertHit.objects.values_list("code", flat=True))
    assert "1001" not in before
    assert "1002" in before  # its spike ends the window on the day before

    synthetic_market.load(DAYS)
    checked, _mails = run()
    assert checked.data_date == synthetic_market.new_day
    hit = AlertHit.objects.get(data_date=synthetic_market.new_day)
    assert hit.code == "1001"
    assert hit.correlation >= 0.9
    assert hit.last_close == 150
    assert hit.end_date == synthetic_market.new_day
    assert hit.start_date == synthetic_market.days[DAYS - 20]
    spike_alert.refresh_from_db()
    assert spike_alert.last_checked_date == synthetic_market.new_day


def test_one_digest_per_user_and_data_date_and_re_runs_send_nothing_new(
    user, synthetic_market, spike_alert
):
    synthetic_market.load(DAYS)
    checked, mails = run()
    assert (checked.alerts, checked.hits, mails.sent) == (1, 1, 1)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert "1001" in mail.outbox[0].body

    checked, mails = run()
    assert (checked.alerts, mails.sent) == (0, 0)
    # Even when the alert is checked again for the same day, the hits' uniqueness holds.
    Alert.objects.update(last_checked_date=None)
    checked, mails = run()
    assert checked.alerts == 1
    assert mails.sent == 0
    assert AlertHit.objects.count() == 1
    assert len(mail.outbox) == 1
    delivery = AlertDelivery.objects.get()
    assert (delivery.channel, delivery.state, delivery.attempts) == ("mail", "sent", 1)


def test_no_new_hits_no_mail(user, synthetic_market):
    alert_create(user=user, spec={"source": "prices", "prices": [1, 5, 2, 8, 3, 9, 4]})
    checked, mails = run()
    assert checked.alerts == 1
    assert AlertHit.objects.count() == 0
    assert mails.sent == 0
    assert mail.outbox == []


def test_a_stock_pattern_does_not_alert_on_itself(user, synthetic_market):
    synthetic_market.load(DAYS)
    days = synthetic_market.days
    alert = alert_create(
        user=user,
        spec={"source": "stock", "code": "1001", "from": str(days[DAYS - 20]), "to": str(days[-1])},
        threshold=0.8,
    )
    assert alert.pattern[-1] == 150  # frozen to the closes
    run()
    assert not AlertHit.objects.filter(code="1001").exists()


def test_filters_of_the_alert_apply(user, synthetic_market):
    synthetic_market.load(DAYS)
    alert_create(
        user=user, spec={"source": "prices", "prices": spike_pattern()}, segment="グロース"
    )
    run()
    assert AlertHit.objects.count() == 0


def test_a_failed_send_is_recorded_and_sent_on_the_next_try(
    user, synthetic_market, spike_alert, settings
):
    synthetic_market.load(DAYS)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", 9, False
    settings.EMAIL_TIMEOUT = 2
    _checked, mails = run()
    assert (mails.sent, mails.failed) == (0, 1)
    delivery = AlertDelivery.objects.get()
    assert delivery.state == AlertDelivery.State.FAILED
    assert delivery.attempts == 1
    assert "Connection" in delivery.error or "refused" in delivery.error.lower()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mails = alert_deliveries_send()
    assert mails.sent == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.error) == (AlertDelivery.State.SENT, 2, "")
    assert len(mail.outbox) == 1


def test_mails_off_keeps_the_hits_and_sends_nothing(user, synthetic_market, spike_alert):
    from alerts.services import alert_mails_set

    synthetic_market.load(DAYS)
    alert_mails_set(user=user, enabled=False)
    _checked, mails = run()
    assert AlertHit.objects.filter(code="1001").exists()
    assert mails.sent == 0
    assert mail.outbox == []
    assert AlertDigest.objects.get().deliveries.count() == 0


def test_paused_alerts_are_not_checked(user, synthetic_market, spike_alert):
    from alerts.services import alert_update

    alert_update(user=user, alert=spike_alert, active=False)
    checked, _mails = run()
    assert checked.alerts == 0


def test_a_lapsed_plan_pauses_the_newest_alerts_before_a_run(user, synthetic_market):
    now = timezone.now()
    grant = ComplimentaryGrant.objects.create(
        user=user,
        plan=Plan.objects.get(slug="pro"),
        starts_at=now - dt.timedelta(days=30),
        ends_at=now + dt.timedelta(days=1),
    )
    alerts = [
        alert_create(user=user, spec={"source": "prices", "prices": spike_pattern(20 + i)})
        for i in range(3)
    ]
    ComplimentaryGrant.objects.filter(pk=grant.pk).update(ends_at=now - dt.timedelta(seconds=1))
    checked, _mails = run()
    assert checked.alerts == 1
    states = {a.pk: (a.status, a.paused_by) for a in Alert.objects.all()}
    assert states[alerts[0].pk] == (Alert.Status.ACTIVE, "")
    assert states[alerts[1].pk] == states[alerts[2].pk] == (Alert.Status.PAUSED, "plan")


def test_a_run_that_dies_before_its_commit_leaves_every_alert_due(
    user, synthetic_market, spike_alert, monkeypatch
):
    synthetic_market.load(DAYS)

    def killed(*args, **kwargs):
        raise SystemExit("worker killed")

    with monkeypatch.context() as patch:
        patch.setattr(AlertHit.objects, "bulk_create", killed)
        with pytest.raises(SystemExit):
            alerts_check()
    spike_alert.refresh_from_db()
    assert spike_alert.last_checked_date is None
    assert not AlertHit.objects.exists()
    assert not AlertDigest.objects.exists()

    _checked, mails = run()
    assert mails.sent == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_delivery_another_worker_is_sending_is_not_sent_twice(user, synthetic_market):
    import threading

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    alert_create(user=user, spec={"source": "prices", "prices": spike_pattern()})
    synthetic_market.load(DAYS)
    alerts_check()
    delivery = AlertDelivery.objects.get()
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        with transaction.atomic():
            AlertDelivery.objects.select_for_update().get(pk=delivery.pk)
            locked.set()
            release.wait(30)
        connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    assert locked.wait(30)
    try:
        assert alert_deliveries_send().sent == 0
    finally:
        release.set()
        thread.join()
    assert mail.outbox == []
    assert alert_deliveries_send().sent == 1
    assert alert_deliveries_send().sent == 0
    assert len(mail.outbox) == 1


def test_no_mail_when_the_alert_went_before_its_digest(user, synthetic_market, spike_alert):
    synthetic_market.load(DAYS)
    alerts_check()
    spike_alert.delete()
    assert alert_deliveries_send().sent == 0
    assert mail.outbox == []
    assert not AlertDelivery.objects.exists()
