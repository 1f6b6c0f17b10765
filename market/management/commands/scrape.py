from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from market.models import ScrapeRun, Stock
from market.services.runs import scrape_run_start, stock_scrape
from market.sources import price_source
from market.tasks import scrape_market

SOURCE = "kabutan"


class Command(BaseCommand):
    help = _(
        "Scrape the newest daily bars of the given stock codes (all listed stocks if none) from "
        "kabutan now, in this process; --queue hands the run to the Celery workers instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("codes", nargs="*")
        parser.add_argument("--queue", action="store_true", help=_("Queue the run in Celery."))

    def handle(self, *args, codes: list[str], queue: bool, **options):
        codes = [code.upper() for code in codes]
        unknown = set(codes) - set(
            Stock.objects.filter(market=Stock.Market.TSE, code__in=codes).values_list(
                "code", flat=True
            )
        )
        if unknown:
            raise CommandError(
                _("unknown stock codes: %(codes)s") % {"codes": ", ".join(sorted(unknown))}
            )
        if queue:
            result = scrape_market.delay(codes=codes or None, trigger="manual", source=SOURCE)
            self.stdout.write(_("queued as task %(task)s") % {"task": result.id})
            return
        if not codes:
            codes = list(
                Stock.objects.filter(market=Stock.Market.TSE, is_listed=True)
                .order_by("code")
                .values_list("code", flat=True)
            )
        run = scrape_run_start(source=SOURCE, codes=codes, trigger="manual")
        site = price_source(SOURCE)
        try:
            for index, code in enumerate(codes, start=1):
                stock_scrape(code=code, run_id=run.pk, source=site)
                if options["verbosity"] >= 2:
                    self.stdout.write(f"[{index}/{len(codes)}] {code}")
        finally:
            site.close()
        run.refresh_from_db()
        for code, error in sorted(run.errors.items()):
            self.stderr.write(self.style.ERROR(f"{code}: {error}"))
        values = {
            "run": run.pk,
            "status": run.get_status_display(),
            "done": run.stocks_done,
            "failed": run.stocks_failed,
            "bars": run.bars_written,
            "splits": run.splits_detected,
        }
        if run.bars_written == 0 and run.splits_detected == 0 and not run.stocks_failed:
            summary = _(
                "scrape run %(run)d: %(status)s, %(done)d stocks done, %(failed)d failed, "
                "%(bars)d bars written, %(splits)d splits: nothing new"
            )
        else:
            summary = _(
                "scrape run %(run)d: %(status)s, %(done)d stocks done, %(failed)d failed, "
                "%(bars)d bars written, %(splits)d splits"
            )
        self.stdout.write(summary % values)
        if run.status != ScrapeRun.Status.SUCCEEDED:
            raise CommandError(
                _("%(failed)d of %(total)d stocks failed")
                % {"failed": run.stocks_failed, "total": run.stocks_total}
            )
