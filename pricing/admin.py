"""The platform operator's admin: SSB's index series and their published values (shared by every tenant).
Values come from SSB through ``manage.py index_fetch``; the admin shows them, read-only."""

from django.contrib import admin

from pricing.models import IndexSeries, IndexValue


class IndexValueInline(admin.TabularInline):
    model = IndexValue
    fields = ("month", "value", "source", "fetched_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-month",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(IndexSeries)
class IndexSeriesAdmin(admin.ModelAdmin):
    list_display = ("code", "name_en", "table", "base", "closed_after", "published_from", "fetched_at")
    readonly_fields = ("fetched_at", "fetch_error", "created_at")
    inlines = (IndexValueInline,)
