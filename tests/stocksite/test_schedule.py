"""The Celery beat schedule: stocksite/schedule.py, installed by `manage.py install_schedule`."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import translation
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from stocksite.schedule import (
    SCHEDULE,
    Crontab,
    ScheduleEntry,
    ScheduleError,
    registered_tasks,
    schedule_install,
)

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"accounts", "market", "billing", "similarity", "alerts"}


def install() -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("install_schedule", stdout=out)
    return out.getvalue()


def stored_rows() -> list[dict]:
    return list(PeriodicTask.objects.order_by("name").values())


def test_install_on_an_empty_database_creates_exactly_the_schedule():
    assert not PeriodicTask.objects.exists()

    output = install()

    stored = {
        task.name: (
            task.task,
            task.crontab.minute,
            task.crontab.hour,
            task.crontab.day_of_month,
            task.crontab.month_of_year,
            task.crontab.day_of_week,
            str(task.crontab.timezone),
            json.loads(task.args),
            json.loads(task.kwargs),
            task.enabled,
        )
        for task in PeriodicTask.objects.select_related("crontab")
    }
    assert stored == {
        entry.name: (
            entry.task,
            entry.crontab.minute,
            entry.crontab.hour,
            entry.crontab.day_of_month,
            entry.crontab.month_of_year,
            entry.crontab.day_of_week,
            "Asia/Tokyo",
            list(entry.args),
            entry.kwargs,
            True,
        )
        for entry in SCHEDULE
    }
    assert f"Schedule: {len(SCHEDULE)} created, 0 kept, 0 not in the schedule." in output


def test_the_description_is_stored_in_the_site_language():
    install()

    task = PeriodicTask.objects.get(name="Daily market sync")
    assert task.description == "上場銘柄一覧、当日の株価、TOPIX、検索スナップショットを更新します。"


def test_a_second_install_changes_nothing():
    install()
    before = stored_rows()
    crontabs = CrontabSchedule.objects.count()

    output = install()

    assert stored_rows() == before
    assert CrontabSchedule.objects.count() == crontabs
    assert f"Schedule: 0 created, {len(SCHEDULE)} kept, 0 not in the schedule." in output


def test_a_staff_edit_in_admin_survives_a_reinstall():
    install()
    task = PeriodicTask.objects.get(name="Daily market sync")
    task.crontab = CrontabSchedule.objects.create(
        minute="30", hour="19", day_of_week="1-5", timezone="Asia/Tokyo"
    )
    task.enabled = False
    task.kwargs = json.dumps({"trigger": "staff"})
    task.save()

    output = install()

    task.refresh_from_db()
    assert (task.crontab.minute, task.crontab.hour) == ("30", "19")
    assert not task.enabled
    assert json.loads(task.kwargs) == {"trigger": "staff"}
    assert (
        "Kept as stored: Daily market sync (market.sync_market, 30 19 * * 1-5 Asia/Tokyo, "
        "disabled). Differs from stocksite/schedule.py in: crontab, enabled, kwargs." in output
    )


def test_an_entry_missing_from_the_database_is_created_and_the_others_kept():
    install()
    PeriodicTask.objects.filter(name="Monthly calibration").delete()

    output = install()

    assert PeriodicTask.objects.filter(
        name="Monthly calibration", task="similarity.tasks.calibration_compute"
    ).exists()
    assert f"Schedule: 1 created, {len(SCHEDULE) - 1} kept, 0 not in the schedule." in output


def test_a_task_no_longer_in_the_schedule_is_reported_not_deleted():
    install()
    crontab = CrontabSchedule.objects.create(minute="30", hour="16", day_of_week="1-5")
    PeriodicTask.objects.create(
        name="Daily market scrape", task="market.scrape_market_old", crontab=crontab
    )

    output = install()

    assert PeriodicTask.objects.filter(name="Daily market scrape", enabled=True).exists()
    reported = (
        "Not in stocksite/schedule.py, left as it is: Daily market scrape "
        "(market.scrape_market_old, 30 16 * * 1-5 Asia/Tokyo, enabled, "
        "no Celery task of this name). Disable or delete it in admin if it should no longer run."
    )
    assert reported in output


@pytest.mark.parametrize("entry", SCHEDULE, ids=lambda entry: entry.task)
def test_every_scheduled_task_is_a_registered_celery_task(entry):
    assert entry.task in registered_tasks()


def test_a_schedule_that_names_an_unknown_task_installs_nothing():
    misspelt = ScheduleEntry(
        name="Daily market sync",
        task="market.sync_markte",
        crontab=Crontab(minute="0", hour="18", day_of_week="1-5"),
        description="A typo.",
    )

    with pytest.raises(ScheduleError, match="market.sync_markte"):
        schedule_install(entries=(*SCHEDULE, misspelt))

    assert not PeriodicTask.objects.exists()


def test_every_entry_has_its_own_name():
    assert len({entry.name for entry in SCHEDULE}) == len(SCHEDULE)


def test_no_migration_of_the_project_touches_the_beat_tables():
    # A migration that wrote periodic tasks would have to depend on django_celery_beat's.
    graph = MigrationLoader(connection, ignore_no_migrations=True).graph
    for app_label, name in graph.nodes:
        if app_label in PROJECT_APPS:
            parents = graph.node_map[(app_label, name)].parents
            assert not [parent for parent in parents if parent.key[0] == "django_celery_beat"]
