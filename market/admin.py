from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from market.models import DailyBar, ScrapeRun, SplitAdjustment, Stock
from market.tasks import scrape_market
from market.text import normalize_search_text


@admin.register(Stock)
class StockAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "segment",
        "sector33",
        "size_class",
        "is_listed",
        "first_bar_date",
        "last_bar_date",
    ]
    list_display_links = ["code", "name"]
    list_filter = ["is_listed", "segment", "sector33", "market"]
    search_fields = ["code", "name_normalized"]
    readonly_fields = [
        "name_normalized",
        "first_bar_date",
        "last_bar_date",
        "created_at",
        "updated_at",
    ]
    actions = ["scrape_now"]
    list_per_page = 100

    def get_search_results(self, request, queryset, search_term):
        # Names are stored NFKC-folded in name_normalized: fold the term the same way, so that
        # full-width input (ｉＦｒｅｅ, ７２０３) finds them.
        return super().get_search_results(request, queryset, normalize_search_text(search_term))

    @admin.action(description=_("Scrape the selected stocks now"))
    def scrape_now(self, request, queryset):
        codes = sorted(queryset.values_list("code", flat=True))
        result = scrape_market.delay(codes=codes, trigger="admin")
        self.message_user(
            request,
            ngettext(
                "Scrape of %(count)d stock queued (task %(task)s); see Scrape runs.",
                "Scrape of %(count)d stocks queued (task %(task)s); see Scrape runs.",
                len(codes),
            )
            % {"count": len(codes), "task": result.id},
            messages.SUCCESS,
        )


class EstimatedCountPaginator(Paginator):
    """Counting 2.5 million bars takes seconds on PostgreSQL: without a filter, use the
    planner's estimate; a filtered list (one stock, one year) is counted exactly."""

    @cached_property
    def count(self):
        query = getattr(self.object_list, "query", None)
        if connection.vendor == "postgresql" and query is not None and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE relname = %s",
                    [self.object_list.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > 0:
                return int(row[0])
        return super().count


@admin.register(DailyBar)
class DailyBarAdmin(admin.ModelAdmin):
    list_display = ["stock", "date", "open", "high", "low", "close", "volume", "adj_close"]
    list_select_related = ["stock"]
    raw_id_fields = ["stock"]
    date_hierarchy = "date"
    search_fields = ["=stock__code"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 100

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(
            request, queryset, normalize_search_text(search_term).upper()
        )


@admin.register(ScrapeRun)
class ScrapeRunAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "source",
        "trigger",
        "status",
        "stocks_total",
        "stocks_done",
        "stocks_failed",
        "bars_written",
        "splits_detected",
        "finished_at",
    ]
    list_filter = ["status", "source", "trigger"]
    date_hierarchy = "started_at"
    readonly_fields = [
        "source",
        "trigger",
        "status",
        "started_at",
        "finished_at",
        "stocks_total",
        "stocks_done",
        "stocks_failed",
        "bars_written",
        "splits_detected",
        "errors_table",
    ]
    exclude = ["errors"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("errors per stock"))
    def errors_table(self, run):
        if not run.errors:
            return "-"
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("code"),
            _("error"),
            format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", sorted(run.errors.items())),
        )


@admin.register(SplitAdjustment)
class SplitAdjustmentAdmin(admin.ModelAdmin):
    list_display = ["stock", "ratio", "effective_after", "bars_adjusted", "source", "detected_at"]
    list_select_related = ["stock"]
    raw_id_fields = ["stock", "scrape_run"]
    search_fields = ["=stock__code"]
    readonly_fields = [f.name for f in SplitAdjustment._meta.fields]

    def has_add_permission(self, request):
        return False
