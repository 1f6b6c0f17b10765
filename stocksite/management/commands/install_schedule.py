from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from stocksite.schedule import ScheduleError, StoredEntry, schedule_install


class Command(BaseCommand):
    help = _(
        "Install the Celery beat schedule of stocksite/schedule.py: create the periodic tasks "
        "the database lacks and keep every existing one as staff left it in admin (crontab, "
        "enabled, arguments). A task no longer in the schedule is reported, never deleted: "
        "disable or delete it in admin. Safe to run on every deployment."
    )

    def handle(self, *args, **options):
        try:
            result = schedule_install()
        except ScheduleError as exc:
            raise CommandError(str(exc)) from None
        for entry in result.created:
            self.stdout.write(
                _("Created: %(name)s (%(task)s, %(crontab)s).")
                % {"name": entry.name, "task": entry.task, "crontab": entry.crontab}
            )
        for stored in result.kept:
            line = _("Kept as stored: %(name)s (%(task)s, %(crontab)s, %(state)s).") % {
                "name": stored.name,
                "task": stored.task,
                "crontab": stored.crontab,
                "state": _state(stored),
            }
            if stored.changed:
                line += " " + _("Differs from stocksite/schedule.py in: %(fields)s.") % {
                    "fields": ", ".join(stored.changed)
                }
            self.stdout.write(line)
        for stored in result.unlisted:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Not in stocksite/schedule.py, left as it is: %(name)s (%(task)s, "
                        "%(crontab)s, %(state)s). Disable or delete it in admin if it should "
                        "no longer run."
                    )
                    % {
                        "name": stored.name,
                        "task": stored.task,
                        "crontab": stored.crontab,
                        "state": _state(stored),
                    }
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("Schedule: %(created)d created, %(kept)d kept, %(unlisted)d not in the schedule.")
                % {
                    "created": len(result.created),
                    "kept": len(result.kept),
                    "unlisted": len(result.unlisted),
                }
            )
        )


def _state(stored: StoredEntry) -> str:
    state = _("enabled") if stored.enabled else _("disabled")
    if not stored.registered:
        state += ", " + _("no Celery task of this name")
    return state
