from django.contrib import admin

from optimizer.models import EffectivenessReport, EffectivenessRun, OptimizerRun

REPORT_FIELDS = (
    "guard",
    "evaluations",
    "blocks",
    "resizes",
    "fail_opens",
    "blocks_with_outcome",
    "blocks_without_outcome",
    "losses_avoided",
    "gains_missed",
    "net_value",
    "precision",
)


class ReadOnly:
    """Analysis results: visible, never editable."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EffectivenessReportInline(ReadOnly, admin.TabularInline):
    model = EffectivenessReport
    fields = REPORT_FIELDS
    readonly_fields = REPORT_FIELDS
    extra = 0


@admin.register(EffectivenessRun)
class EffectivenessRunAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("ran_at", "window_start", "window_end")
    readonly_fields = ("ran_at", "window_start", "window_end")
    inlines = (EffectivenessReportInline,)
    date_hierarchy = "ran_at"


@admin.register(EffectivenessReport)
class EffectivenessReportAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("run", *REPORT_FIELDS)
    list_filter = ("guard",)
    list_select_related = ("run",)
    readonly_fields = ("run", *REPORT_FIELDS)
    show_full_result_count = False


RUN_FIELDS = (
    "run_id",
    "ran_at",
    "parameter",
    "active_value",
    "active_version",
    "window",
    "decisions",
    "compared",
    "unreplayable",
    "unpriced",
    "candidates",
    "best_value",
    "improvement",
    "proposal",
    "proposal_version",
    "reason",
)


@admin.register(OptimizerRun)
class OptimizerRunAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("ran_at", "parameter", "active_value", "best_value", "improvement", "proposal_version")
    list_filter = ("parameter",)
    readonly_fields = RUN_FIELDS
    fields = RUN_FIELDS
    date_hierarchy = "ran_at"
