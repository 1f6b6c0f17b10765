import logging
import time

from django.core.management.base import BaseCommand, CommandError

from similarity.snapshot import snapshot_pull
from similarity.snapshot_store import SnapshotStoreError, store_from_settings

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Fetch the newest complete snapshot from the store (SNAPSHOT_STORE_URL), verify every "
        "file and make it current on this host. A failed pull leaves the current one serving."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="pull only when this host has no snapshot yet (a web host starting)",
        )
        parser.add_argument(
            "--every",
            type=float,
            metavar="SECONDS",
            help="keep running and pull again every SECONDS (a host's puller)",
        )

    def handle(self, *args, **options):
        if store_from_settings() is None:
            if options["if_missing"]:  # gunicorn asks on every start, with a store or without
                self.stdout.write("no snapshot store configured (SNAPSHOT_STORE_URL): no pull")
                return
            raise CommandError("SNAPSHOT_STORE_URL is not set: there is no store to pull from")
        if options["every"] is None:
            try:
                self._pull(if_missing=options["if_missing"])
            except SnapshotStoreError as exc:
                raise CommandError(
                    f"pull failed, the current snapshot goes on serving: {exc}"
                ) from exc
            return
        if options["every"] <= 0:
            raise CommandError("--every needs a number of seconds above 0")
        while True:
            try:
                self._pull(if_missing=False)
            except SnapshotStoreError as exc:
                logger.error("snapshot pull failed, the current snapshot goes on serving: %s", exc)
            time.sleep(options["every"])

    def _pull(self, *, if_missing: bool) -> None:
        pull = snapshot_pull(if_missing=if_missing)
        if pull.status == "pulled":
            message = f"pulled {pull.id}: {pull.bytes / 1e6:.1f} MB in {pull.seconds:.1f} s"
        elif pull.status == "empty":
            message = "the store holds no snapshot yet"
        elif pull.status == "newer":
            message = f"snapshot {pull.id} built here is newer than the store's: kept"
        else:
            message = f"snapshot {pull.id} is current"
        self.stdout.write(message)
        self.stdout.flush()
