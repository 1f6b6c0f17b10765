"""POST /line/webhook/: the signature first, each event once, and the link offer it answers with."""

import pytest

from alerts.models import AlertChannelPreference, LineLink, LineWebhookEvent
from tests.alerts.line_server import error, event, signature, text_message, webhook_body

LINE_USER = "U" + "1" * 32


def test_a_follow_event_gets_a_link_message_with_a_fresh_link_token(line, post_webhook, db):
    response = post_webhook(event("follow", LINE_USER))

    assert response.status_code == 200
    (text,) = line.texts_to(LINE_USER)
    (token,) = line.link_tokens
    assert line.link_tokens[token] == LINE_USER
    assert f"https://stocksite.test/line/link/?linkToken={token}" in text
    assert "10分" in text  # the site's language: Japanese
    stored = LineWebhookEvent.objects.get()
    assert (stored.state, stored.payload) == (LineWebhookEvent.State.PROCESSED, {})


def test_a_text_message_from_someone_not_linked_gets_the_link_message(line, post_webhook, db):
    post_webhook(text_message(LINE_USER))
    assert len(line.texts_to(LINE_USER)) == 1
    assert len(line.link_tokens) == 1


def test_many_messages_get_one_link_message_while_its_token_lasts(line, post_webhook, db):
    post_webhook(event("follow", LINE_USER))
    for _ in range(3):
        post_webhook(text_message(LINE_USER))
    assert len(line.texts_to(LINE_USER)) == 1
    assert LineWebhookEvent.objects.filter(state="processed").count() == 4


def test_a_linked_user_writing_gets_no_link_message(line, post_webhook, line_linked):
    post_webhook(text_message(line_linked.line_link.line_user_id))
    assert line.pushes == []
    assert line.link_tokens == {}


@pytest.mark.parametrize(
    "signed",
    [
        "",  # no header at all
        "not base64 at all",
        signature(b"another body"),
        signature(webhook_body(), secret="someone-else's-secret"),
    ],
)
def test_a_missing_or_wrong_signature_is_a_400_and_nothing_is_read(line, post_webhook, db, signed):
    response = post_webhook(event("follow", LINE_USER), signed=signed)
    assert response.status_code == 400
    assert not LineWebhookEvent.objects.exists()
    assert line.link_tokens == {}


def test_the_signature_is_checked_on_the_raw_bytes(line, post_webhook, db):
    """Re-serialised JSON (other spacing) no longer matches what LINE signed."""
    body = webhook_body(event("follow", LINE_USER))
    reformatted = body.replace(b'", "', b'","')
    assert reformatted != body
    assert post_webhook(body=reformatted, signed=signature(body)).status_code == 400


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"events": "none"}', b'{"destination": "U0", "events": []}'],
)
def test_any_signed_body_is_answered_200(line, post_webhook, db, body):
    """LINE's "verify" button sends no events; whatever a signed body holds, the answer is 200."""
    assert post_webhook(body=body).status_code == 200
    assert not LineWebhookEvent.objects.exists()


def test_events_of_other_kinds_are_stored_and_ignored(line, post_webhook, db):
    response = post_webhook(
        event("postback", LINE_USER, postback={"data": "x"}),
        {"type": "follow", "source": {"type": "user", "userId": LINE_USER}},  # no event id
        {**event("follow", "C" + "2" * 32), "source": {"type": "group", "groupId": "C2"}},
    )
    assert response.status_code == 200
    assert line.pushes == []
    assert set(LineWebhookEvent.objects.values_list("type", flat=True)) == {"postback", "follow"}


def test_a_redelivered_event_is_handled_once(line, post_webhook, db):
    follow = event("follow", LINE_USER)
    post_webhook(follow)
    again = {**follow, "deliveryContext": {"isRedelivery": True}}
    assert post_webhook(again).status_code == 200
    assert post_webhook(follow).status_code == 200

    assert len(line.texts_to(LINE_USER)) == 1
    assert len(line.link_tokens) == 1
    assert LineWebhookEvent.objects.count() == 1


def test_an_event_whose_link_offer_failed_is_retried_without_a_second_push(line, post_webhook, db):
    from alerts.tasks import line_event_handle

    line.fail_next("linkToken", error(500, "Internal server error"))
    assert post_webhook(event("follow", LINE_USER)).status_code == 200
    stored = LineWebhookEvent.objects.get()
    assert stored.state == LineWebhookEvent.State.FAILED
    assert "500" in stored.error
    assert line.pushes == []

    line_event_handle(stored.pk)
    line_event_handle(stored.pk)

    stored.refresh_from_db()
    assert (stored.state, stored.attempts) == (LineWebhookEvent.State.PROCESSED, 2)
    assert len(line.texts_to(LINE_USER)) == 1


def test_an_unfollow_removes_the_link_and_turns_line_off(line, post_webhook, line_linked):
    post_webhook(event("unfollow", line_linked.line_link.line_user_id))
    assert not LineLink.objects.exists()
    assert AlertChannelPreference.objects.get(user=line_linked).line_enabled is False


def test_without_the_line_settings_the_webhook_is_not_there(client, db, settings):
    settings.LINE_CHANNEL_SECRET = settings.LINE_CHANNEL_ACCESS_TOKEN = ""
    body = webhook_body(event("follow", LINE_USER))
    response = client.post(
        "/line/webhook/",
        body,
        content_type="application/json",
        HTTP_X_LINE_SIGNATURE=signature(body, secret=""),
    )
    assert response.status_code == 404
    assert not LineWebhookEvent.objects.exists()


def test_the_webhook_takes_only_post(line, client, db):
    assert client.get("/line/webhook/").status_code == 405


def test_alerts_run_handles_an_event_whose_task_was_lost(line, synthetic_market):
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone

    follow = event("follow", LINE_USER)
    stored = LineWebhookEvent.objects.create(
        webhook_event_id=follow["webhookEventId"], type="follow", payload=follow
    )
    call_command("alerts_run")
    assert line.pushes == []  # it may still be in its task's hands

    LineWebhookEvent.objects.filter(pk=stored.pk).update(
        received_at=timezone.now() - dt.timedelta(minutes=6)
    )
    call_command("alerts_run")
    stored.refresh_from_db()
    assert stored.state == LineWebhookEvent.State.PROCESSED
    assert len(line.texts_to(LINE_USER)) == 1
