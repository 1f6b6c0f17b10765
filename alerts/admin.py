from django.contrib import admin

from alerts.models import Alert, AlertDigest, AlertHit, AlertMailPreference


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "source",
        "threshold",
        "status",
        "paused_by",
        "created_at",
        "last_checked_date",
    )
    list_filter = ("status", "paused_by", "source")
    search_fields = ("name", "user__email")
    readonly_fields = ("spec", "pattern", "created_at", "last_checked_at", "last_checked_date")
    autocomplete_fields = ("user",)


@admin.register(AlertHit)
class AlertHitAdmin(admin.ModelAdmin):
    list_display = ("alert", "data_date", "code", "name", "correlation", "last_close")
    list_filter = ("data_date",)
    search_fields = ("code", "alert__name", "alert__user__email")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AlertDigest)
class AlertDigestAdmin(admin.ModelAdmin):
    """The delivery record of the daily mails: failures keep their error for staff."""

    list_display = ("user", "data_date", "state", "attempts", "sent_at", "error")
    list_filter = ("state", "data_date")
    search_fields = ("user__email",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AlertMailPreference)
class AlertMailPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "mails_enabled", "changed_at")
    list_filter = ("mails_enabled",)
    search_fields = ("user__email",)
    autocomplete_fields = ("user",)
