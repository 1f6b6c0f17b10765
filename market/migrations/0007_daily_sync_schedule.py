"""The daily scrape becomes the daily sync through the configured source (MARKET_SOURCE):
weekdays 18:00 Tokyo time, after the close (15:30) and after J-Quants publishes the next day's
listing (17:30). On days the exchange's stored calendar says it is closed the task does nothing.
A reaper closes, every 30 minutes, runs whose tasks were lost. Staff edit both in admin.
"""

import importlib
import json

from django.db import migrations

OLD_TASK_NAME = "Daily market scrape"
TASK_NAME = "Daily market sync"
REAPER_NAME = "Close lost scrape and sync runs"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=OLD_TASK_NAME, task="market.scrape_market").delete()
    after_close, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="18",
        day_of_week="1-5",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Tokyo",
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "market.sync_market",
            "crontab": after_close,
            "kwargs": json.dumps({"trigger": "schedule"}),
            "description": "The listing, the day's prices, TOPIX and the search snapshot.",
        },
    )
    every_half_hour, _ = CrontabSchedule.objects.get_or_create(
        minute="*/30",
        hour="*",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Tokyo",
    )
    PeriodicTask.objects.get_or_create(
        name=REAPER_NAME,
        defaults={
            "task": "market.reap_stale_runs",
            "crontab": every_half_hour,
            "description": "Close runs still running whose tasks were lost.",
        },
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[TASK_NAME, REAPER_NAME]).delete()
    importlib.import_module("market.migrations.0003_daily_scrape_schedule").create_schedule(
        apps, schema_editor
    )


class Migration(migrations.Migration):
    dependencies = [
        ("market", "0006_sync_records_trading_calendar"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
