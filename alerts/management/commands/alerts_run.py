import datetime as dt

from django.core.management.base import BaseCommand

from alerts.line.selectors import line_events_unhandled
from alerts.line.services import line_event_process
from alerts.runs import alert_deliveries_send, alerts_check

# A LINE event younger than this may still be in its task's hands.
LINE_EVENT_GRACE = dt.timedelta(minutes=5)


class Command(BaseCommand):
    help = (
        "Check every due shape alert against the current snapshot in this process, then send the "
        "pending and failed deliveries (mail, LINE), and handle the LINE webhook events whose task "
        "was lost. Safe to run again: nothing is found or sent twice."
    )

    def handle(self, *args, **options):
        checked = alerts_check()
        sent = alert_deliveries_send()
        date = checked.data_date.isoformat() if checked.data_date else "no snapshot date"
        self.stdout.write(
            f"{date}: {checked.alerts} alerts checked, {checked.hits} hits, "
            f"{sent.sent} sent, {sent.failed} failed, {sent.skipped} skipped"
        )
        if sent.failed:
            self.stderr.write("some deliveries failed: see the alert deliveries in admin")
        events = [
            line_event_process(event_id=event_id).state
            for event_id in line_events_unhandled(older_than=LINE_EVENT_GRACE)
        ]
        if events:
            handled = events.count("processed")
            self.stdout.write(f"LINE events: {handled} of {len(events)} left unhandled now handled")
