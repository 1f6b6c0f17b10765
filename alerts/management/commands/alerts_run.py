from django.core.management.base import BaseCommand

from alerts.runs import alert_digests_send, alerts_check


class Command(BaseCommand):
    help = (
        "Check every due shape alert against the current snapshot in this process, then send the "
        "pending and failed digests. Safe to run again: nothing is found or sent twice."
    )

    def handle(self, *args, **options):
        checked = alerts_check()
        mails = alert_digests_send()
        date = checked.data_date.isoformat() if checked.data_date else "no snapshot date"
        self.stdout.write(
            f"{date}: {checked.alerts} alerts checked, {checked.hits} hits, "
            f"{mails.sent} mails sent, {mails.failed} failed, {mails.skipped} skipped"
        )
        if mails.failed:
            self.stderr.write("some mails failed: see the alert digests in admin")
