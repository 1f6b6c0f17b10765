"""For `make run`: the demo accounts' 答え合わせ (track record), filled from the demo market's
history, since its data stop in 2018 and no search made today can be graded."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from similarity.models import SearchGrade
from similarity.snapshot import SnapshotMissing
from similarity.track_record import track_record_replay
from stocksite.management.commands.bootstrap_demo import DEMO_EMAIL, DEMO_PRO_EMAIL

# Past stretches replayed with the data known at the time, then graded by what followed.
DEMO_REPLAYS = (
    {"source": "stock", "code": "7974", "from": "2018-03-01", "to": "2018-05-31"},
    {"source": "stock", "code": "7203", "from": "2017-10-02", "to": "2017-12-28"},
    {"source": "stock", "code": "6758", "from": "2016-06-01", "to": "2016-08-31"},
)


class Command(BaseCommand):
    help = "Fill the demo accounts' track record by replaying past searches (once)."

    def handle(self, *args, **options):
        users = get_user_model().objects.filter(email__in=[DEMO_EMAIL, DEMO_PRO_EMAIL])
        for user in users:
            if SearchGrade.objects.filter(saved_search__user=user).exists():
                continue
            try:
                for spec in DEMO_REPLAYS:
                    track_record_replay(user=user, spec=spec)
            except SnapshotMissing:
                self.stdout.write("no snapshot yet: the demo track record is left empty")
                return
            self.stdout.write(f"  track record filled for {user.email}")
