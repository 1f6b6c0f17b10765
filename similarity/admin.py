from django.contrib import admin

from similarity.models import SavedSearch


@admin.register(SavedSearch)
class SavedSearchAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "label", "source", "mode", "match_count", "elapsed_ms")
    list_filter = ("source", "mode", "created_at")
    search_fields = ("user__email", "label", "id")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    raw_id_fields = ("user", "rerun_of")
    readonly_fields = (
        "id",
        "created_at",
        "source",
        "mode",
        "label",
        "spec",
        "pattern",
        "options",
        "result",
        "match_count",
        "elapsed_ms",
        "snapshot_id",
        "snapshot_date",
    )
