"""Celery beat: the track record graded nightly (after the evening scrape and snapshot) and the
walk-forward calibration recomputed on the 1st of each month. Staff edit both in admin."""

import json

from django.db import migrations

SCHEDULES = (
    {
        "name": "Nightly track record grading",
        "task": "similarity.tasks.track_record_grade",
        "crontab": {"minute": "30", "hour": "21", "day_of_week": "*", "day_of_month": "*"},
        "kwargs": {},
        "description": "Grade saved searches whose horizons have passed since their pattern.",
    },
    {
        "name": "Monthly calibration",
        "task": "similarity.tasks.calibration_compute",
        "crontab": {"minute": "0", "hour": "3", "day_of_week": "*", "day_of_month": "1"},
        "kwargs": {"samples": 500},
        "description": "Walk-forward calibration of the fans and verdicts (/calibration/).",
    },
)


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for schedule in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            **schedule["crontab"], month_of_year="*", timezone="Asia/Tokyo"
        )
        PeriodicTask.objects.get_or_create(
            name=schedule["name"],
            defaults={
                "task": schedule["task"],
                "crontab": crontab,
                "kwargs": json.dumps(schedule["kwargs"]),
                "description": schedule["description"],
            },
        )


def remove_schedules(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[schedule["name"] for schedule in SCHEDULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("similarity", "0002_calibration_and_grades"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
