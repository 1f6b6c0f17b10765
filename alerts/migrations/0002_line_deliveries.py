"""Deliveries per channel (issue 24): a digest's mail state moves to its mail delivery, the mail
preference becomes the channel preference (LINE off), and LINE's links, nonces and events."""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models

MAIL_STATES = {"pending": "pending", "sent": "sent", "failed": "failed", "unsubscribed": "off"}


def deliveries_from_digests(apps, schema_editor):
    AlertDigest = apps.get_model("alerts", "AlertDigest")
    AlertDelivery = apps.get_model("alerts", "AlertDelivery")
    AlertMailPreference = apps.get_model("alerts", "AlertMailPreference")
    AlertChannelPreference = apps.get_model("alerts", "AlertChannelPreference")
    AlertDelivery.objects.bulk_create(
        AlertDelivery(
            digest_id=digest.pk,
            channel="mail",
            state=MAIL_STATES.get(digest.state, "failed"),
            attempts=digest.attempts,
            error=digest.error,
            sent_at=digest.sent_at,
        )
        for digest in AlertDigest.objects.iterator()
    )
    AlertChannelPreference.objects.bulk_create(
        AlertChannelPreference(user_id=preference.user_id, mails_enabled=preference.mails_enabled)
        for preference in AlertMailPreference.objects.iterator()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LineWebhookEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "webhook_event_id",
                    models.CharField(max_length=64, unique=True, verbose_name="webhook event id"),
                ),
                ("type", models.CharField(max_length=32, verbose_name="type")),
                ("payload", models.JSONField(blank=True, default=dict, verbose_name="payload")),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("received", "received"),
                            ("processed", "processed"),
                            ("failed", "failed"),
                        ],
                        default="received",
                        max_length=16,
                        verbose_name="state",
                    ),
                ),
                (
                    "attempts",
                    models.PositiveSmallIntegerField(default=0, verbose_name="processing attempts"),
                ),
                ("error", models.TextField(blank=True, verbose_name="error")),
                (
                    "received_at",
                    models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="received"),
                ),
                (
                    "processed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="processed"),
                ),
            ],
            options={
                "verbose_name": "LINE webhook event",
                "verbose_name_plural": "LINE webhook events",
                "ordering": ["-received_at"],
            },
        ),
        migrations.CreateModel(
            name="AlertChannelPreference",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("mails_enabled", models.BooleanField(default=True, verbose_name="alert mails")),
                ("line_enabled", models.BooleanField(default=False, verbose_name="alerts on LINE")),
                ("changed_at", models.DateTimeField(auto_now=True, verbose_name="changed")),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="alert_channel_preference",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "alert channels",
                "verbose_name_plural": "alert channels",
            },
        ),
        migrations.CreateModel(
            name="AlertDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[("mail", "mail"), ("line", "LINE")],
                        max_length=8,
                        verbose_name="channel",
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("pending", "pending"),
                            ("sent", "sent"),
                            ("failed", "failed, will be retried"),
                            ("rejected", "failed, not retried"),
                            ("off", "not sent: the channel was turned off"),
                        ],
                        default="pending",
                        max_length=16,
                        verbose_name="state",
                    ),
                ),
                (
                    "attempts",
                    models.PositiveSmallIntegerField(default=0, verbose_name="send attempts"),
                ),
                ("error", models.TextField(blank=True, verbose_name="last error")),
                (
                    "next_attempt_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="Set when the provider asked us to wait (Retry-After).",
                        null=True,
                        verbose_name="not before",
                    ),
                ),
                (
                    "retry_key",
                    models.UUIDField(default=uuid.uuid4, editable=False, verbose_name="retry key"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent")),
                (
                    "digest",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="alerts.alertdigest",
                        verbose_name="digest",
                    ),
                ),
            ],
            options={
                "verbose_name": "alert delivery",
                "verbose_name_plural": "alert deliveries",
                "ordering": ["-digest__data_date", "digest", "channel"],
            },
        ),
        migrations.RunPython(deliveries_from_digests, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="alertdigest",
            name="attempts",
        ),
        migrations.RemoveField(
            model_name="alertdigest",
            name="error",
        ),
        migrations.RemoveField(
            model_name="alertdigest",
            name="sent_at",
        ),
        migrations.RemoveField(
            model_name="alertdigest",
            name="state",
        ),
        migrations.DeleteModel(
            name="AlertMailPreference",
        ),
        migrations.CreateModel(
            name="LineLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "line_user_id",
                    models.CharField(max_length=64, unique=True, verbose_name="LINE user id"),
                ),
                ("linked_at", models.DateTimeField(auto_now_add=True, verbose_name="linked")),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="line_link",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "LINE link",
                "verbose_name_plural": "LINE links",
            },
        ),
        migrations.CreateModel(
            name="LineLinkNonce",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("nonce", models.CharField(max_length=64, unique=True, verbose_name="nonce")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                ("expires_at", models.DateTimeField(db_index=True, verbose_name="expires")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "LINE link nonce",
                "verbose_name_plural": "LINE link nonces",
            },
        ),
        migrations.AddIndex(
            model_name="alertdelivery",
            index=models.Index(fields=["state", "channel"], name="alertdelivery_state_idx"),
        ),
        migrations.AddConstraint(
            model_name="alertdelivery",
            constraint=models.UniqueConstraint(
                fields=("digest", "channel"), name="alertdelivery_unique_digest_channel"
            ),
        ),
    ]
