from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from market.exchanges.tse.calendar import tokyo_today
from market.management.commands.sync_prices import iso_date
from market.services.sync import INDEX_SOURCES, index_range_default, index_sync
from market.sources import SourceError, SourceRefusedError, price_source
from market.sources.parsing import ParseError


class Command(BaseCommand):
    help = _(
        "Bring a market index's daily bars up to date from J-Quants (TOPIX: Light plan and "
        "above), by default from the day after the latest stored one."
    )

    def add_arguments(self, parser):
        parser.add_argument("index", choices=sorted(INDEX_SOURCES))
        parser.add_argument("--from", dest="start", type=iso_date, help=_("first day"))
        parser.add_argument("--to", dest="end", type=iso_date, help=_("last day"))

    def handle(self, *args, index, start, end, **options):
        try:
            source = price_source("jquants")
        except SourceRefusedError as exc:
            raise CommandError(str(exc)) from None
        try:
            default_start, default_end = index_range_default(
                source=source, name=index, today=tokyo_today()
            )
            start, end = start or default_start, end or default_end
            if start > end:
                self.stdout.write(_("Nothing to sync: the index is up to date."))
                return
            saved = index_sync(source=source, name=index, start=start, end=end)
        except (SourceError, ParseError) as exc:
            raise CommandError(str(exc)) from None
        finally:
            source.close()
        for key, reason in sorted(saved.rejected.items()):
            self.stderr.write(
                self.style.WARNING(
                    _("%(key)s skipped: %(reason)s") % {"key": key, "reason": reason}
                )
            )
        for key, problem in sorted(saved.disagreements.items()):
            self.stderr.write(self.style.WARNING(f"{key}: {problem}"))
        self.stdout.write(
            _("%(index)s from %(start)s to %(end)s: %(new)d new bars, %(unchanged)d unchanged.")
            % {
                "index": INDEX_SOURCES[index]["code"],
                "start": start,
                "end": end,
                "new": saved.inserted,
                "unchanged": saved.unchanged,
            }
        )
