import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from market.exchanges.tse.calendar import tokyo_today
from market.models import ScrapeRun
from market.progress import ProgressBar, expected_time, plan_allows
from market.services.sync import price_sync_plan, prices_sync, sync_run_start
from market.sources import SourceRefusedError, price_source


def iso_date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(_("%(text)s is not a date (YYYY-MM-DD)") % {"text": text}) from None


class Command(BaseCommand):
    help = _(
        "Bring daily prices up to date from J-Quants: by default from the day after the latest "
        "stored bar to today, the whole market day by day; with codes, stock by stock. A run "
        "stopped half way continues where it left off when started again."
    )

    def add_arguments(self, parser):
        parser.add_argument("codes", nargs="*", help=_("stock codes (default: the whole market)"))
        parser.add_argument("--from", dest="start", type=iso_date, help=_("first day"))
        parser.add_argument("--to", dest="end", type=iso_date, help=_("last day"))

    def handle(self, *args, codes, start, end, **options):
        codes = sorted({code.upper() for code in codes})
        if start and end and start > end:
            raise CommandError(_("--from is after --to"))
        today = tokyo_today()
        try:
            source = price_source("jquants")
        except SourceRefusedError as exc:
            raise CommandError(str(exc)) from None
        try:
            self._sync(source=source, codes=codes, start=start, end=end, today=today)
        except SourceRefusedError as exc:
            raise CommandError(str(exc)) from None
        finally:
            source.close()

    def _sync(self, *, source, codes, start, end, today):
        plan = price_sync_plan(source=source, start=start, end=end, codes=codes, today=today)
        if plan.limited_by_plan or source.plan.delay_days:
            self.stdout.write(plan_allows(plan=source.plan, today=today))
        if not plan.keys:
            if plan.start > plan.end:
                self.stdout.write(
                    _("Nothing to sync: your J-Quants plan serves none of the days asked for.")
                )
            elif plan.limited_by_plan:
                self.stdout.write(
                    _("Nothing to sync: prices are up to date as far as your J-Quants plan serves.")
                )
            else:
                self.stdout.write(_("Nothing to sync: prices are up to date."))
            return
        if plan.codes:
            what = ngettext("%(count)d stock", "%(count)d stocks", len(plan.codes))
        else:
            what = ngettext("%(count)d business day", "%(count)d business days", len(plan.days))
        what = what % {"count": len(plan.keys)}
        self.stdout.write(
            _("%(what)s from %(start)s to %(end)s; %(time)s.")
            % {
                "what": what,
                "start": plan.start,
                "end": plan.end,
                "time": expected_time(
                    requests=plan.requests(),
                    plan=source.plan,
                    rate_per_minute=settings.JQUANTS_RATE_PER_MINUTE,
                ),
            }
        )
        run = sync_run_start(keys=plan.keys, trigger="manual", scope=plan.scope)
        already = run.stocks_done + run.stocks_failed
        if already:
            self.stdout.write(
                _("Continuing run %(run)d: %(done)d of %(total)d already done.")
                % {"run": run.pk, "done": already, "total": run.stocks_total}
            )
        progress = ProgressBar(self.stdout, len(plan.keys))
        try:
            prices_sync(source=source, run_id=run.pk, plan=plan, on_item=progress.step)
        except KeyboardInterrupt:
            raise CommandError(
                _("Stopped: the same command continues run %(run)d where it left off.")
                % {"run": run.pk}
            ) from None
        run.refresh_from_db()
        self._report(run)

    def _report(self, run: ScrapeRun) -> None:
        for key, error in sorted(run.errors.items()):
            self.stderr.write(self.style.ERROR(f"{key}: {error}"))
        for key, reason in sorted(run.rejected_rows.items()):
            self.stderr.write(
                self.style.WARNING(
                    _("%(key)s skipped: %(reason)s") % {"key": key, "reason": reason}
                )
            )
        for key, problem in sorted(run.disagreements.items()):
            self.stderr.write(
                self.style.WARNING(
                    _("%(key)s differs: %(problem)s")
                    % {
                        "key": key,
                        "problem": problem,
                    }
                )
            )
        self.stdout.write(
            _(
                "Run %(run)d: %(status)s, %(done)d done, %(failed)d failed, %(bars)d bars "
                "written, %(splits)d splits, %(disagreements)d disagreements."
            )
            % {
                "run": run.pk,
                "status": run.get_status_display(),
                "done": run.stocks_done,
                "failed": run.stocks_failed,
                "bars": run.bars_written,
                "splits": run.splits_detected,
                "disagreements": len(run.disagreements),
            }
        )
        if run.status != ScrapeRun.Status.SUCCEEDED:
            raise CommandError(
                _("%(failed)d of %(total)d failed")
                % {
                    "failed": run.stocks_failed,
                    "total": run.stocks_total,
                }
            )
