from django.core.management.base import BaseCommand

from alerts.runs import alert_deliveries_send, alerts_check


class Command(BaseCommand):
    help = (
        "Check every due shape alert against the current snapshot in this process, then send the "
        "pending and failed deliveries (mail, LINE). Safe to run again: nothing is found or sent "
        "twice."
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
