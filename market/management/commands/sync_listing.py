from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from market.services.sync import listing_sync
from market.sources import SourceError, SourceRefusedError, price_source
from market.sources.parsing import ParseError


class Command(BaseCommand):
    help = _(
        "Bring the listing up to date from J-Quants: names (Japanese and English), segment, "
        "sectors and size; a code absent from the exchange's master becomes unlisted."
    )

    def handle(self, *args, **options):
        try:
            source = price_source("jquants")
        except SourceRefusedError as exc:
            raise CommandError(str(exc)) from None
        try:
            result = listing_sync(source=source)
        except (SourceError, ParseError) as exc:
            raise CommandError(str(exc)) from None
        finally:
            source.close()
        for code, reason in sorted(result.rejected.items()):
            self.stderr.write(
                self.style.WARNING(
                    _("%(key)s skipped: %(reason)s") % {"key": code, "reason": reason}
                )
            )
        self.stdout.write(
            _(
                "Listing: %(created)d new, %(updated)d changed, %(unchanged)d unchanged, "
                "%(delisted)d no longer listed."
            )
            % {
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "delisted": result.delisted,
            }
        )
