"""The Celery beat schedule: every periodic task of the site, written once.

`manage.py install_schedule` writes these entries into django-celery-beat's tables, which beat
reads (CELERY_BEAT_SCHEDULER). An entry is known by its name: the install creates the entries
the database lacks and leaves every existing one as it is, so what staff change in admin
(Periodic tasks: the crontab, the enabled flag, the arguments) survives a re-install. A task
taken out of this module is not deleted from the database: the install reports it, and staff
disable or delete it in admin.

Times are Tokyo time: the exchange closes at 15:30 and J-Quants publishes the day's data and
the next day's listing by 17:30. On days the exchange is closed the market tasks do nothing.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from stocksite.celery import app

TIMEZONE = "Asia/Tokyo"


@dataclass(frozen=True)
class Crontab:
    """When an entry runs, in cron's terms (Tokyo time); "*" is every value."""

    minute: str = "*"
    hour: str = "*"
    day_of_month: str = "*"
    month_of_year: str = "*"
    day_of_week: str = "*"

    def __str__(self) -> str:
        return _cron_line(self, TIMEZONE)


@dataclass(frozen=True)
class ScheduleEntry:
    name: str
    task: str
    crontab: Crontab
    description: str
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


SCHEDULE: tuple[ScheduleEntry, ...] = (
    ScheduleEntry(
        name="Daily market sync",
        task="market.sync_market",
        crontab=Crontab(minute="0", hour="18", day_of_week="1-5"),
        kwargs={"trigger": "schedule"},
        description=_("The listing, the day's prices, TOPIX and the search snapshot."),
    ),
    ScheduleEntry(
        name="Close lost scrape and sync runs",
        task="market.reap_stale_runs",
        crontab=Crontab(minute="*/30"),
        description=_("Close runs still running whose tasks were lost."),
    ),
    ScheduleEntry(
        name="Reconcile subscriptions with Stripe",
        task="billing.subscriptions_reconcile",
        crontab=Crontab(minute="17"),
        description=_("Re-read every subscription that is not final from Stripe."),
    ),
    ScheduleEntry(
        name="Stripe event payload purge",
        task="billing.stripe_events_purge",
        crontab=Crontab(minute="10", hour="4"),
        description=_("Empty webhook payloads older than STRIPE_EVENT_RETENTION_DAYS."),
    ),
    # After the evening sync and its snapshot rebuild.
    ScheduleEntry(
        name="Nightly track record grading",
        task="similarity.tasks.track_record_grade",
        crontab=Crontab(minute="30", hour="21"),
        description=_("Grade saved searches whose horizons have passed since their pattern."),
    ),
    ScheduleEntry(
        name="Monthly calibration",
        task="similarity.tasks.calibration_compute",
        crontab=Crontab(minute="0", hour="3", day_of_month="1"),
        kwargs={"samples": 500},
        description=_("Walk-forward calibration of the fans and verdicts (/calibration/)."),
    ),
)


class ScheduleError(Exception):
    """The schedule names a task no worker knows: nothing is installed."""


@dataclass(frozen=True)
class StoredEntry:
    """A periodic task as the database holds it, and how it differs from SCHEDULE."""

    name: str
    task: str
    crontab: str
    enabled: bool
    changed: tuple[str, ...] = ()
    registered: bool = True


@dataclass(frozen=True)
class ScheduleInstall:
    created: list[ScheduleEntry]
    kept: list[StoredEntry]
    # In the database, not in SCHEDULE: left as they are (Celery's own celery.* tasks aside).
    unlisted: list[StoredEntry]


def registered_tasks() -> set[str]:
    """The names of the tasks a worker of this project runs (every app's tasks module)."""
    app.loader.import_default_modules()
    return set(app.tasks)


def schedule_install(*, entries: tuple[ScheduleEntry, ...] = SCHEDULE) -> ScheduleInstall:
    """Create the entries the database lacks; keep every existing entry as staff left it."""
    known = registered_tasks()
    unknown = sorted({entry.task for entry in entries} - known)
    if unknown:
        raise ScheduleError(
            gettext("No Celery task is registered under these names: %(tasks)s.")
            % {"tasks": ", ".join(unknown)}
        )
    created, kept = [], []
    with transaction.atomic():
        for entry in entries:
            stored = PeriodicTask.objects.select_related("crontab").filter(name=entry.name).first()
            if stored is None:
                _entry_create(entry)
                created.append(entry)
            else:
                kept.append(_stored(stored, entry=entry, known=known))
        unlisted = [
            _stored(stored, entry=None, known=known)
            for stored in PeriodicTask.objects.select_related("crontab")
            .exclude(name__in=[entry.name for entry in entries])
            .exclude(task__startswith="celery.")
            .order_by("name")
        ]
    return ScheduleInstall(created=created, kept=kept, unlisted=unlisted)


def _entry_create(entry: ScheduleEntry) -> None:
    crontab_fields = {
        "minute": entry.crontab.minute,
        "hour": entry.crontab.hour,
        "day_of_month": entry.crontab.day_of_month,
        "month_of_year": entry.crontab.month_of_year,
        "day_of_week": entry.crontab.day_of_week,
        "timezone": TIMEZONE,
    }
    # Several equal crontab rows can exist (staff add them in admin): any one of them will do.
    crontab = CrontabSchedule.objects.filter(**crontab_fields).order_by("pk").first()
    if crontab is None:
        crontab = CrontabSchedule.objects.create(**crontab_fields)
    # Stored in the site's language: staff read the description in admin.
    with translation.override(settings.LANGUAGE_CODE):
        description = str(entry.description)
    PeriodicTask.objects.create(
        name=entry.name,
        task=entry.task,
        crontab=crontab,
        args=json.dumps(list(entry.args)),
        kwargs=json.dumps(entry.kwargs),
        description=description,
    )


def _cron_line(crontab, timezone) -> str:
    """Cron's order (minute hour day-of-month month day-of-week), then the time zone."""
    fields = (
        crontab.minute,
        crontab.hour,
        crontab.day_of_month,
        crontab.month_of_year,
        crontab.day_of_week,
    )
    return f"{' '.join(fields)} {timezone}"


def _crontab_text(stored) -> str:
    if stored.crontab is None:
        return str(stored.schedule)
    return _cron_line(stored.crontab, stored.crontab.timezone)


def _changed(stored, entry: ScheduleEntry) -> tuple[str, ...]:
    """The fields in which the stored entry differs from SCHEDULE (staff edits, or a new
    SCHEDULE that this database has not taken: staff apply it in admin)."""
    changed = []
    if stored.task != entry.task:
        changed.append("task")
    if _crontab_text(stored) != str(entry.crontab):
        changed.append("crontab")
    if not stored.enabled:
        changed.append("enabled")
    if _json_value(stored.args, empty=[]) != list(entry.args):
        changed.append("args")
    if _json_value(stored.kwargs, empty={}) != entry.kwargs:
        changed.append("kwargs")
    return tuple(changed)


def _json_value(text: str, *, empty):
    try:
        return json.loads(text) if text else empty
    except ValueError:
        return text


def _stored(stored, *, entry: ScheduleEntry | None, known: set[str]) -> StoredEntry:
    return StoredEntry(
        name=stored.name,
        task=stored.task,
        crontab=_crontab_text(stored),
        enabled=stored.enabled,
        changed=_changed(stored, entry) if entry is not None else (),
        registered=stored.task in known,
    )
