"""Digests pushed to LINE after the alert run: one push per digest, retried without a second
message, and never holding back the mail (nor the mail holding back LINE)."""

import datetime as dt
import uuid

import pytest
from django.core import mail
from django.utils import timezone

from alerts.line.messages import digest_text, text_length
from alerts.models import AlertDelivery, AlertHit
from alerts.runs import alert_deliveries_send, alerts_check
from alerts.services import alert_create
from tests.alerts.line_server import error

from .conftest import DAYS, spike_pattern


@pytest.fixture
def hit_day(line, line_linked, synthetic_market):
    """The linked Pro user's alert has a hit on the new day; nothing is sent yet."""
    alert_create(
        user=line_linked, name="急騰", spec={"source": "prices", "prices": spike_pattern()}
    )
    synthetic_market.load(DAYS)
    alerts_check()
    return line_linked


def delivery(channel: str) -> AlertDelivery:
    return AlertDelivery.objects.get(channel=channel)


def test_a_linked_pro_user_gets_one_push_and_one_mail(line, hit_day, synthetic_market):
    summary = alert_deliveries_send()

    assert (summary.sent, summary.failed) == (2, 0)
    assert len(mail.outbox) == 1
    (push,) = line.pushes
    assert push["to"] == hit_day.line_link.line_user_id
    assert push["retry_key"] == str(delivery("line").retry_key)
    text = push["text"]
    date = synthetic_market.new_day.strftime("%Y/%m/%d")
    assert text.startswith(f"stocksite：{date}のデータで、アラートの形に似た銘柄が1件")
    assert "■ 急騰" in text
    assert "1001 銘柄1001" in text
    hit = AlertHit.objects.get()
    assert f"相関 {hit.correlation:.3f}・終値 150円" in text
    assert text.endswith("https://stocksite.test/account/alerts/")
    assert delivery("line").state == AlertDelivery.State.SENT


def test_the_push_is_written_in_the_user_s_language(line, hit_day, synthetic_market):
    hit_day.language = "en"
    hit_day.save(update_fields=["language"])
    alert_deliveries_send()
    text = line.pushes[0]["text"]
    assert text.startswith("stocksite: 1 stock looks like your alerts (data of ")
    assert "close ¥150" in text


def test_a_run_again_pushes_nothing_more(line, hit_day):
    alert_deliveries_send()
    assert alert_deliveries_send().sent == 0
    assert len(line.pushes) == 1


def test_a_429_waits_as_long_as_line_asks_then_sends_with_the_same_key(line, hit_day):
    line.fail_next("push", error(429, "Too many requests", retry_after="120"))

    summary = alert_deliveries_send()

    pushed = delivery("line")
    assert pushed.state == AlertDelivery.State.FAILED
    assert "429" in pushed.error
    assert pushed.next_attempt_at >= timezone.now() + dt.timedelta(seconds=100)
    assert summary.failed == 1 and summary.retry_after > 100
    assert alert_deliveries_send().sent == 0  # not before the time LINE asked for
    assert len(line.push_requests) == 1

    AlertDelivery.objects.filter(pk=pushed.pk).update(next_attempt_at=timezone.now())
    assert alert_deliveries_send().sent == 1
    keys = {request["retry_key"] for request in line.push_requests}
    assert keys == {str(pushed.retry_key)}
    assert len(line.pushes) == 1
    assert len(mail.outbox) == 1


def test_a_500_fails_the_push_alone_and_a_retry_sends_it_once(line, hit_day):
    line.fail_next("push", error(500, "Internal server error"))

    first = alert_deliveries_send()

    assert (first.sent, first.failed) == (1, 1)  # the mail went out all the same
    assert delivery("mail").state == AlertDelivery.State.SENT
    assert delivery("line").state == AlertDelivery.State.FAILED
    second = alert_deliveries_send()
    assert (second.sent, second.failed) == (1, 0)
    assert (delivery("line").state, delivery("line").attempts) == (AlertDelivery.State.SENT, 2)
    assert len(mail.outbox) == 1
    assert len(line.pushes) == 1


@pytest.mark.parametrize("status", [400, 401, 403])
def test_a_refused_push_is_recorded_and_never_retried(line, hit_day, status):
    line.fail_next("push", error(status, "refused"))

    summary = alert_deliveries_send()

    pushed = delivery("line")
    assert pushed.state == AlertDelivery.State.REJECTED
    assert str(status) in pushed.error
    assert summary.failed == 0
    assert alert_deliveries_send().sent == 0
    assert len(line.push_requests) == 1
    assert len(mail.outbox) == 1


def test_a_timeout_after_line_took_the_message_is_not_sent_twice(line, hit_day, settings):
    settings.LINE_TIMEOUT_SECONDS = 0.5
    line.accept_slowly(2)

    alert_deliveries_send()
    assert delivery("line").state == AlertDelivery.State.FAILED
    assert "time" in delivery("line").error

    assert alert_deliveries_send().sent == 1  # LINE answers 409: this key was accepted
    assert delivery("line").state == AlertDelivery.State.SENT
    assert len(line.push_requests) == 2
    assert len({request["retry_key"] for request in line.push_requests}) == 1
    assert len(line.pushes) == 1


def test_a_failed_mail_does_not_hold_back_the_push(line, hit_day, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", 9, False
    settings.EMAIL_TIMEOUT = 2

    alert_deliveries_send()

    assert delivery("mail").state == AlertDelivery.State.FAILED
    assert delivery("line").state == AlertDelivery.State.SENT
    assert len(line.pushes) == 1


def test_line_alone_when_mails_are_off(line, line_linked, synthetic_market):
    from alerts.services import alert_mails_set

    alert_mails_set(user=line_linked, enabled=False)
    alert_create(user=line_linked, spec={"source": "prices", "prices": spike_pattern()})
    synthetic_market.load(DAYS)
    alerts_check()
    alert_deliveries_send()
    assert list(AlertDelivery.objects.values_list("channel", flat=True)) == ["line"]
    assert mail.outbox == []
    assert len(line.pushes) == 1


def test_the_free_plan_gets_no_line_delivery(line, user, synthetic_market):
    from alerts.models import AlertChannelPreference, LineLink

    LineLink.objects.create(user=user, line_user_id="U" + "f" * 32)
    AlertChannelPreference.objects.create(user=user, line_enabled=True)
    alert_create(user=user, spec={"source": "prices", "prices": spike_pattern()})
    synthetic_market.load(DAYS)
    alerts_check()
    alert_deliveries_send()
    assert list(AlertDelivery.objects.values_list("channel", flat=True)) == ["mail"]
    assert line.pushes == []


def test_unlinking_before_the_send_turns_the_line_delivery_off(line, hit_day):
    from alerts.line.services import line_unlink

    line_unlink(user=hit_day)
    alert_deliveries_send()
    assert delivery("line").state == AlertDelivery.State.OFF
    assert line.pushes == []
    assert len(mail.outbox) == 1


def test_a_long_digest_fits_in_one_line_message_and_points_to_the_rest(user, db):
    from types import SimpleNamespace

    alert = SimpleNamespace(name="全銘柄の急騰" * 10)
    hits = [
        SimpleNamespace(
            alert_id=1,
            alert=alert,
            code=f"{1000 + i}",
            name="とても長い銘柄名のホールディングス株式会社" * 3,
            correlation=0.95,
            last_close=1520.0,
        )
        for i in range(400)
    ]
    text = digest_text(user=user, data_date=dt.date(2026, 11, 16), hits=hits)
    assert text_length(text) <= 5000
    assert "400件" in text.splitlines()[0]
    shown = text.count("相関 0.950・終値 1,520円")
    assert 10 < shown < 400
    assert f"ほか{400 - shown}件はアラートのページで" in text


def test_text_length_counts_as_line_does():
    assert text_length("株価📈") == 4  # the emoji is two UTF-16 code units


def test_each_delivery_has_its_own_retry_key(line, hit_day):
    keys = set(AlertDelivery.objects.values_list("retry_key", flat=True))
    assert len(keys) == 2
    assert all(isinstance(key, uuid.UUID) for key in keys)


@pytest.mark.parametrize(
    ("language", "count", "foot"),
    [
        ("ja", "アラートの形に似た銘柄が2件", "ほか1件はアラートのページで：\n"),
        ("en", "2 stocks look like your alerts", "1 more on the alerts page:\n"),
    ],
)
def test_the_push_counts_the_hits_beyond_the_digest_cap_and_links_to_them(
    line, line_linked, synthetic_market, monkeypatch, language, count, foot
):
    from alerts import limits as alert_limits

    line_linked.language = language
    line_linked.save(update_fields=["language"])
    for name in ("first", "second"):  # the same shape twice: two hits of 1001
        alert_create(
            user=line_linked, name=name, spec={"source": "prices", "prices": spike_pattern()}
        )
    synthetic_market.load(DAYS)
    alerts_check()
    monkeypatch.setattr(alert_limits, "HITS_PER_DIGEST", 1)

    alert_deliveries_send()

    text = line.pushes[0]["text"]
    assert count in text.splitlines()[0]
    assert text.count("1001 銘柄1001") == 1
    assert text.endswith(foot + "https://stocksite.test/account/alerts/")
