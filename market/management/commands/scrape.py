from django.core.management.base import BaseCommand, CommandError

from market.models import ScrapeRun, Stock
from market.services import scrape_run_start, stock_scrape
from market.sources import DEFAULT_SOURCE, SOURCES, price_source
from market.tasks import scrape_market


class Command(BaseCommand):
    help = (
        "Scrape the newest daily bars of the given stock codes (all listed stocks if none) now, "
        "in this process; --queue hands the run to the Celery workers instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("codes", nargs="*")
        parser.add_argument("--source", default=DEFAULT_SOURCE, choices=sorted(SOURCES))
        parser.add_argument("--queue", action="store_true", help="Queue the run in Celery.")

    def handle(self, *args, codes: list[str], source: str, queue: bool, **options):
        codes = [code.upper() for code in codes]
        unknown = set(codes) - set(
            Stock.objects.filter(market=Stock.Market.TSE, code__in=codes).values_list(
                "code", flat=True
            )
        )
        if unknown:
            raise CommandError(f"unknown stock codes: {', '.join(sorted(unknown))}")
        if queue:
            result = scrape_market.delay(codes=codes or None, trigger="manual", source=source)
            self.stdout.write(f"queued as task {result.id}")
            return
        if not codes:
            codes = list(
                Stock.objects.filter(market=Stock.Market.TSE, is_listed=True)
                .order_by("code")
                .values_list("code", flat=True)
            )
        run = scrape_run_start(source=source, codes=codes, trigger="manual")
        site = price_source(source)
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
        summary = (
            f"scrape run {run.pk}: {run.get_status_display()}, {run.stocks_done} stocks done, "
            f"{run.stocks_failed} failed, {run.bars_written} bars written, "
            f"{run.splits_detected} splits"
        )
        if run.bars_written == 0 and run.splits_detected == 0 and not run.stocks_failed:
            summary += ": nothing new"
        self.stdout.write(summary)
        if run.status != ScrapeRun.Status.SUCCEEDED:
            raise CommandError(f"{run.stocks_failed} of {run.stocks_total} stocks failed")
