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


def test_hits_beyond_the_cap_per_alert_and_day_are_counted_not_kept(
    user, synthetic_market, monkeypatch
):
    from alerts import limits as alert_limits

    synthetic_market.load(DAYS)
    alert = alert_create(user=user, spec={"source": "prices", "prices": spike_pattern()})
    monkeypatch.setattr(alert_limits, "HITS_KEPT_PER_ALERT_AND_DAY", 0)

    checked, _mails = run()

    alert.refresh_from_db()
    assert (checked.hits, AlertHit.objects.count(), alert.hits_not_kept) == (0, 0, 1)


def test_hits_older_than_the_kept_days_are_pruned(user, synthetic_market, spike_alert):
    from alerts import limits as alert_limits
    from alerts.runs import alert_hits_prune

    synthetic_market.load(DAYS)
    run()
    hit = AlertHit.objects.get()
    today = hit.data_date + dt.timedelta(days=alert_limits.HITS_KEPT_DAYS)

    assert alert_hits_prune(today=today) == 0
    assert alert_hits_prune(today=today + dt.timedelta(days=1)) == 1
    assert not AlertHit.objects.exists()


def test_a_digest_lists_the_best_hits_and_counts_the_rest(pro_user, synthetic_market, monkeypatch):
    from alerts import limits as alert_limits

    synthetic_market.load(DAYS)
    for name in ("first", "second"):  # the same shape twice: two hits of 1001
        alert_create(user=pro_user, name=name, spec={"source": "prices", "prices": spike_pattern()})
    monkeypatch.setattr(alert_limits, "HITS_PER_DIGEST", 1)

    checked, mails = run()

    assert (checked.hits, mails.sent) == (2, 1)
    assert "ほか1件のヒットはアラートのページにあります" in mail.outbox[0].body


def test_the_hits_kept_per_alert_and_day_are_exactly_the_best_by_correlation(
    pro_user, synthetic_market, monkeypatch
):
    """Eight more stocks end on a rise, with noise of eight sizes in no order of their codes:
    their last windows correlate with a rising pattern more or less. With the cap below the
    number of hits, each alert keeps exactly the cap's best by correlation and only counts the
    rest."""
    import numpy as np

    from alerts import limits as alert_limits
    from market.bars import Bar
    from market.models import Stock
    from market.services.daily_bars import daily_bars_upsert

    rng = np.random.default_rng(20)
    for i, noise in enumerate((5, 2, 7, 0, 3, 6, 1, 4)):
        stock = Stock.objects.create(code=f"{2001 + i}", name=f"上昇{i}", segment="プライム")
        closes = 100 + np.concatenate([np.zeros(DAYS - 20), np.linspace(0, 20, 20)])
        closes += rng.normal(0, 0.5 + 0.5 * noise, DAYS)
        closes = np.maximum(closes, 1.0)
        daily_bars_upsert(
            stock=stock,
            bars=[
                Bar(date=day, open=c, high=c, low=c, close=c, volume=10_000, adj_close=c)
                for day, c in zip(synthetic_market.days, closes.tolist(), strict=True)
            ],
        )
    synthetic_market.load(DAYS)
    rising = [100 + i for i in range(20)]
    alerts = [
        alert_create(
            user=pro_user, name=name, threshold=0.8, spec={"source": "prices", "prices": rising}
        )
        for name in ("first", "second")
    ]

    monkeypatch.setattr(alert_limits, "HITS_KEPT_PER_ALERT_AND_DAY", 1000)
    alerts_check()
    every = {
        alert.pk: sorted(
            alert.hits.values_list("correlation", "code"), key=lambda hit: (-hit[0], hit[1])
        )
        for alert in alerts
    }
    assert all(len(hits) >= 6 for hits in every.values())
    assert len({correlation for correlation, _code in every[alerts[0].pk]}) == len(
        every[alerts[0].pk]
    )

    AlertHit.objects.all().delete()
    AlertDigest.objects.all().delete()
    Alert.objects.update(last_checked_date=None, hits_not_kept=0)
    monkeypatch.setattr(alert_limits, "HITS_KEPT_PER_ALERT_AND_DAY", 3)
    checked = alerts_check()

    assert checked.hits == 6
    for alert in alerts:
        alert.refresh_from_db()
        kept = sorted(
            alert.hits.values_list("correlation", "code"), key=lambda hit: (-hit[0], hit[1])
        )
        assert kept == every[alert.pk][:3]
        assert alert.hits_not_kept == len(every[alert.pk]) - 3
