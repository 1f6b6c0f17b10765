from django.contrib import admin, messages
from django.utils.translation import gettext as _

from alerts.line.selectors import line_missing_settings
from alerts.models import (
    Alert,
    AlertChannelPreference,
    AlertDelivery,
    AlertDigest,
    AlertHit,
    LineLink,
    LineWebhookEvent,
    WatchlistEntry,
)


@admin.register(WatchlistEntry)
class WatchlistEntryAdmin(admin.ModelAdmin):
    """Read-only: users keep their own watchlists."""

    list_display = ("user", "stock", "added_at")
    search_fields = ("user__email", "stock__code")
    readonly_fields = ("user", "stock", "added_at")
    list_select_related = ("user", "stock")

    def has_add_permission(self, request) -> bool:
        return False


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
    list_filter = ("status", "paused_by", "source", "universe")
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


class AlertDeliveryInline(admin.TabularInline):
    model = AlertDelivery
    fields = ("channel", "state", "attempts", "sent_at", "next_attempt_at", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AlertDigest)
class AlertDigestAdmin(admin.ModelAdmin):
    """A user's digest of a data date, with its delivery on each channel."""

    list_display = ("user", "data_date", "created_at")
    list_filter = ("data_date",)
    search_fields = ("user__email",)
    inlines = (AlertDeliveryInline,)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    """The delivery records of the daily digests: failures keep their error for staff."""

    list_display = (
        "digest",
        "channel",
        "state",
        "attempts",
        "sent_at",
        "next_attempt_at",
        "error",
    )
    list_filter = ("channel", "state", "digest__data_date")
    search_fields = ("digest__user__email",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AlertChannelPreference)
class AlertChannelPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "mails_enabled", "line_enabled", "changed_at")
    list_filter = ("mails_enabled", "line_enabled")
    search_fields = ("user__email",)
    autocomplete_fields = ("user",)


def _line_settings_note() -> str:
    missing = line_missing_settings()
    if not missing:
        return ""
    return _("LINE is off on this site: set %(names)s.") % {"names": ", ".join(missing)}


@admin.register(LineLink)
class LineLinkAdmin(admin.ModelAdmin):
    list_display = ("user", "line_user_id", "linked_at")
    search_fields = ("user__email", "line_user_id")
    readonly_fields = ("user", "line_user_id", "linked_at")

    def has_add_permission(self, request) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        if note := _line_settings_note():
            messages.warning(request, note)
        return super().changelist_view(request, extra_context)


@admin.register(LineWebhookEvent)
class LineWebhookEventAdmin(admin.ModelAdmin):
    list_display = ("webhook_event_id", "type", "state", "attempts", "received_at", "error")
    list_filter = ("state", "type")
    search_fields = ("webhook_event_id",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
