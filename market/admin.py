from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.text import normalize_search_text
from market.models import (
    DailyBar,
    HeldAdjFactor,
    IndexBar,
    MarketIndex,
    ScrapeRun,
    ScrapeRunItem,
    SplitAdjustment,
    Stock,
    TradingDay,
)
from market.services.listing import stock_underlyings_infer
from market.services.provider_bars import held_adj_factor_apply
from market.tasks import sync_market, sync_stocks


@admin.register(Stock)
class StockAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "segment",
        "sector33",
        "size_class",
        "underlying",
        "is_listed",
        "first_bar_date",
        "last_bar_date",
    ]
    list_display_links = ["code", "name"]
    list_filter = ["is_listed", "segment", "sector33", "underlying", "market"]
    search_fields = ["code", "name_normalized"]
    readonly_fields = [
        "name_normalized",
        "first_bar_date",
        "last_bar_date",
        "created_at",
        "updated_at",
    ]
    actions = ["sync_now", "underlying_from_name"]
    list_per_page = 100

    def get_search_results(self, request, queryset, search_term):
        # Names are stored NFKC-folded in name_normalized: fold the term the same way, so that
        # full-width input (ｉＦｒｅｅ, ７２０３) finds them.
        return super().get_search_results(request, queryset, normalize_search_text(search_term))

    @admin.action(description=_("Set the underlying from the fund's name"))
    def underlying_from_name(self, request, queryset):
        changed = stock_underlyings_infer(stocks=queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d stock's underlying changed; searches use it from the next snapshot.",
                "%(count)d stocks' underlyings changed; searches use them from the next snapshot.",
                changed,
            )
            % {"count": changed},
        )

    @admin.action(description=_("Sync the selected stocks now (from the configured source)"))
    def sync_now(self, request, queryset):
        codes = sorted(queryset.values_list("code", flat=True))
        result = sync_stocks.delay(codes=codes, trigger="admin")
        self.message_user(
            request,
            ngettext(
                "Sync of %(count)d stock queued (task %(task)s); see Scrape runs.",
                "Sync of %(count)d stocks queued (task %(task)s); see Scrape runs.",
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


class ScrapeRunItemInline(admin.TabularInline):
    model = ScrapeRunItem
    fields = ["key", "bars_written", "error", "recorded_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ScrapeRun)
class ScrapeRunAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "source",
        "trigger",
        "scope",
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
        "scope",
        "status",
        "started_at",
        "updated_at",
        "finished_at",
        "stocks_total",
        "stocks_done",
        "stocks_failed",
        "bars_written",
        "splits_detected",
        "errors_table",
        "disagreements_table",
        "rejected_rows_table",
    ]
    exclude = ["errors", "disagreements", "rejected_rows"]
    inlines = [ScrapeRunItemInline]
    actions = ["sync_market_now"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(
        description=_("Sync the whole market now (the daily sync, from the configured source)")
    )
    def sync_market_now(self, request, queryset):
        result = sync_market.delay(trigger="admin")
        self.message_user(
            request,
            _("Market sync queued (task %(task)s); its run appears here.") % {"task": result.id},
            messages.SUCCESS,
        )

    @admin.display(description=_("stored bars the source disagrees with"))
    def disagreements_table(self, run):
        if not run.disagreements:
            return "-"
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("stock and day"),
            _("difference"),
            format_html_join(
                "", "<tr><td>{}</td><td>{}</td></tr>", sorted(run.disagreements.items())
            ),
        )

    @admin.display(description=_("provider rows skipped"))
    def rejected_rows_table(self, run):
        if not run.rejected_rows:
            return "-"
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("stock and day"),
            _("reason"),
            format_html_join(
                "", "<tr><td>{}</td><td>{}</td></tr>", sorted(run.rejected_rows.items())
            ),
        )

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


@admin.register(HeldAdjFactor)
class HeldAdjFactorAdmin(admin.ModelAdmin):
    """Split factors the provider gave outside the plausible range: the bar is stored, the
    factor waits here. Apply it when it is right; delete it when it is not."""

    list_display = ["stock", "date", "factor", "source", "held_at"]
    list_select_related = ["stock"]
    raw_id_fields = ["stock", "scrape_run"]
    search_fields = ["=stock__code"]
    readonly_fields = [f.name for f in HeldAdjFactor._meta.fields]
    actions = ["apply_as_split"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Apply the selected factors as splits"))
    def apply_as_split(self, request, queryset):
        held_ids = list(queryset.values_list("pk", flat=True))
        for held_id in held_ids:
            held_adj_factor_apply(held_id=held_id)
        self.message_user(
            request,
            ngettext("%(count)d factor applied.", "%(count)d factors applied.", len(held_ids))
            % {"count": len(held_ids)},
            messages.SUCCESS,
        )


@admin.register(TradingDay)
class TradingDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "market"]
    list_filter = ["kind", "market"]
    date_hierarchy = "date"
    list_per_page = 100


@admin.register(MarketIndex)
class MarketIndexAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en"]
    search_fields = ["code", "name", "name_en"]


@admin.register(IndexBar)
class IndexBarAdmin(admin.ModelAdmin):
    list_display = ["index", "date", "open", "high", "low", "close"]
    list_filter = ["index"]
    date_hierarchy = "date"
    list_select_related = ["index"]
    list_per_page = 100
