"""The daily scrape in Celery beat: weekdays 16:30 Tokyo time, after the close (15:30).

Exchange holidays are skipped by the task itself (market.exchanges.tse.calendar); staff edit the schedule in
admin (Periodic tasks).
"""

import json

from django.db import migrations

TASK_NAME = "Daily market scrape"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="16",
        day_of_week="1-5",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Tokyo",
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "market.scrape_market",
            "crontab": crontab,
            "kwargs": json.dumps({"trigger": "schedule"}),
            "description": "Scrape the newest daily bars of every listed stock.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("market", "0002_split_adjustment"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
