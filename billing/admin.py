from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import (
    BillingCustomer,
    ComplimentaryGrant,
    Plan,
    StripeEvent,
    StripeEventState,
    Subscription,
)
from billing.signals import entitlements_changed
from billing.subscriptions import stripe_event_process


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "rank",
        "price_monthly",
        "price_yearly",
        "searches_per_day",
        "max_matches",
        "history_years",
        "all_horizons",
        "api_access",
        "csv_export",
        "max_alerts",
        "max_watchlist",
        "line_alerts",
        "is_public",
    )
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = (
        (None, {"fields": ("name", "slug", "rank", "is_public")}),
        (_("Prices"), {"fields": ("price_monthly", "price_yearly")}),
        (
            _("Stripe"),
            {
                "fields": ("stripe_product_id", "stripe_price_monthly", "stripe_price_yearly"),
                "description": _("Filled by `manage.py stripe_setup`."),
            },
        ),
        (
            _("Limits"),
            {
                "fields": (
                    "searches_per_day",
                    "max_matches",
                    "history_years",
                    "all_horizons",
                    "api_access",
                    "csv_export",
                    "api_requests_per_minute",
                    "max_alerts",
                    "max_watchlist",
                    "line_alerts",
                )
            },
        ),
    )


@admin.register(BillingCustomer)
class BillingCustomerAdmin(admin.ModelAdmin):
    list_display = ("user", "stripe_customer_id", "created_at")
    search_fields = ("user__email", "stripe_customer_id")
    readonly_fields = ("user", "stripe_customer_id", "created_at")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Read-only: subscriptions are written from Stripe, never by hand."""

    list_display = (
        "user",
        "plan",
        "status",
        "current_period_end",
        "cancel_at_period_end",
        "stripe_subscription_id",
        "synced_at",
    )
    list_filter = ("status", "plan", "cancel_at_period_end")
    search_fields = ("user__email", "stripe_subscription_id", "stripe_customer_id")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ComplimentaryGrant)
class ComplimentaryGrantAdmin(admin.ModelAdmin):
    list_display = ("user", "plan", "starts_at", "ends_at", "reason", "created_by")
    list_filter = ("plan",)
    search_fields = ("user__email", "reason")
    autocomplete_fields = ("user",)
    readonly_fields = ("created_by", "created_at")

    def get_changeform_initial_data(self, request):
        return {"starts_at": timezone.now(), **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        # A grant shortened or changed to a smaller plan may leave too many active alerts.
        entitlements_changed.send(sender=ComplimentaryGrant, user=obj.user)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        entitlements_changed.send(sender=ComplimentaryGrant, user=obj.user)

    def delete_queryset(self, request, queryset):
        users = {grant.user for grant in queryset.select_related("user")}
        super().delete_queryset(request, queryset)
        for user in users:
            entitlements_changed.send(sender=ComplimentaryGrant, user=user)


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    """The webhook log is append-only: staff read it and re-process failed events."""

    list_display = ("stripe_id", "type", "state", "attempts", "received_at", "processed_at")
    list_filter = ("state", "type")
    search_fields = ("stripe_id", "type")
    date_hierarchy = "received_at"
    actions = ["reprocess"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_reprocess_permission(self, request) -> bool:
        return request.user.has_perm("billing.change_stripeevent")

    @admin.action(description=_("Re-process the selected failed events"), permissions=["reprocess"])
    def reprocess(self, request, queryset):
        events = list(
            queryset.filter(state__in=[StripeEventState.FAILED, StripeEventState.RECEIVED])
        )
        results = [stripe_event_process(stripe_event=event) for event in events]
        failed = sum(1 for event in results if event.state == StripeEventState.FAILED)
        self.message_user(
            request,
            _("%(done)d re-processed, %(failed)d still failing, %(skipped)d skipped (not failed).")
            % {
                "done": len(results) - failed,
                "failed": failed,
                "skipped": queryset.count() - len(events),
            },
            messages.WARNING if failed else messages.SUCCESS,
        )
