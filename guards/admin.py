"""Admin: the operator's view. Records of what happened are read-only; tokens are shown once."""

from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone

from guards import models
from guards.domain.params import DEFAULTS, WHALE_THRESHOLD, below_detail_floor, below_replay_floor, validate_value
from guards.parameters import APPROVE_PERMISSION, ApprovalError, approve_version, propose_version, reject_version
from guards.tokens import issue_token


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit records: visible, filterable, never editable."""

    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.MarketSnapshot)
class MarketSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("kind", "symbol", "source", "fetched_at")
    list_filter = ("kind", "symbol", "source")
    date_hierarchy = "fetched_at"


@admin.register(models.DataHealthEvent)
class DataHealthEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "symbol", "source", "outcome", "reason_code", "duration_ms")
    list_filter = ("outcome", "kind", "symbol", "reason_code")


@admin.register(models.InputAvailability)
class InputAvailabilityAdmin(ReadOnlyAdmin):
    list_display = ("kind", "source", "status", "plan_required", "current_plan", "detected_at", "recheck_after")


@admin.register(models.SourcePlan)
class SourcePlanAdmin(ReadOnlyAdmin):
    list_display = ("source", "level", "calls_per_minute", "checked_at")


class GuardEventInline(admin.TabularInline):
    model = models.GuardEvent
    fields = ("position", "event_type", "guard", "decision", "reason", "inputs", "parameters")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ("evaluated_at", "signal_id", "symbol", "direction", "allowed", "blocked_by", "final_size")
    list_filter = ("allowed", "blocked_by", "symbol", "direction")
    search_fields = ("signal_id",)
    date_hierarchy = "evaluated_at"
    inlines = [GuardEventInline]


@admin.register(models.GuardEvent)
class GuardEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event_type", "guard", "symbol", "decision", "reason")
    list_filter = ("event_type", "guard", "decision", "symbol")
    list_select_related = ("evaluation",)
    search_fields = ("evaluation__signal_id", "position_id")


@admin.register(models.Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = ("trade_id", "symbol", "direction", "size", "pnl", "closed_at", "signal_id")
    list_filter = ("symbol", "direction")
    search_fields = ("trade_id", "signal_id")


@admin.register(models.Position)
class PositionAdmin(ReadOnlyAdmin):
    list_display = ("position_id", "symbol", "direction", "strategy", "hold_reason", "hold_until", "is_open")
    list_filter = ("is_open", "symbol", "hold_reason")


@admin.register(models.ParameterChange)
class ParameterChangeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "parameter", "action", "old_value", "new_value", "actor", "reason")
    list_filter = ("parameter", "action")


class DecisionForm(forms.Form):
    """The why of an approval or rejection, kept in the audit trail (SPEC §5.5)."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=500)


def _approval_warning(version, active_value) -> str:
    if version.parameter != WHALE_THRESHOLD or active_value is None:
        return ""
    if below_detail_floor(version.value, active_value):
        return (
            "Below 40% of the active threshold: the stored whale flow cannot be split there, so the Whale "
            "Intent Filter fails open until the window has been read again (up to whale_window_minutes)."
        )
    if below_replay_floor(version.value, active_value):
        return (
            "Below 50% of the active threshold: the filter works at once, but for up to whale_window_minutes "
            "the optimizer cannot replay the lowest candidates (-20%) on minutes stored at the old floor."
        )
    return ""


def _parameters_selected_twice(versions) -> list[str]:
    return [name for name, count in Counter(v.parameter for v in versions).items() if count > 1]


class ProposalForm(forms.ModelForm):
    """A new version of a parameter: the value is JSON (a number, a string, or a list)."""

    parameter = forms.ChoiceField(choices=[(name, name) for name in DEFAULTS])
    value = forms.JSONField(help_text='e.g. 120000, "4h", or ["WHALE_INTENT_FILTER"]')

    class Meta:
        model = models.ParameterVersion
        fields = ("parameter", "value", "reason")

    def clean(self):
        cleaned = super().clean()
        if "parameter" in cleaned and "value" in cleaned:
            try:
                cleaned["value"] = validate_value(cleaned["parameter"], cleaned["value"])
            except ValueError as exc:
                self.add_error("value", str(exc))
        return cleaned


@admin.register(models.ParameterVersion)
class ParameterVersionAdmin(admin.ModelAdmin):
    """Propose by adding; approve or reject with the actions (SPEC §5.5)."""

    form = ProposalForm
    list_display = ("parameter", "version", "value", "status", "origin", "proposed_by", "approved_by", "created_at")
    list_filter = ("parameter", "status", "origin")
    list_select_related = ("proposed_by", "approved_by")
    actions = ("approve", "reject")

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request):
        return request.user.has_perm(APPROVE_PERMISSION)

    def save_model(self, request, obj, form, change):
        version = propose_version(
            parameter=form.cleaned_data["parameter"],
            value=form.cleaned_data["value"],
            proposer=request.user,
            reason=form.cleaned_data.get("reason", ""),
        )
        obj.pk, obj.version, obj.status = version.pk, version.version, version.status

    @admin.action(permissions=["approve"], description="Approve selected proposals (makes them active)")
    def approve(self, request, queryset):
        return self._confirm_then_decide(request, queryset, "approve")

    @admin.action(permissions=["approve"], description="Reject selected proposals")
    def reject(self, request, queryset):
        return self._confirm_then_decide(request, queryset, "reject")

    def _confirm_then_decide(self, request, queryset, action: str):
        """Two steps, as delete_selected: a page showing old -> new value and asking why, then the
        decision. Approving two versions of one parameter at once is refused (which one is meant?)."""
        versions = list(queryset.order_by("parameter", "version"))
        if action == "approve" and (twice := _parameters_selected_twice(versions)):
            self.message_user(request, f"Select one version of {', '.join(twice)} to approve.", messages.ERROR)
            return None
        form = DecisionForm(request.POST if request.POST.get("confirm") else None)
        if not form.is_valid():
            return self._confirmation_page(request, versions, action, form)
        reason = form.cleaned_data["reason"]
        for version in versions:
            try:
                if action == "approve":
                    done = approve_version(version=version, approver=request.user, now=timezone.now(), reason=reason)
                else:
                    done = reject_version(version=version, rejecter=request.user, reason=reason)
                self.message_user(request, f"{done}", messages.SUCCESS)
            except ApprovalError as exc:
                self.message_user(request, f"{version}: {exc}", messages.ERROR)
        return None

    def _confirmation_page(self, request, versions, action: str, form):
        active = dict(
            models.ParameterVersion.objects.filter(
                parameter__in={v.parameter for v in versions}, status=models.ParameterVersion.Status.ACTIVE
            ).values_list("parameter", "value")
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"{action.capitalize()} parameter versions",
            "opts": self.model._meta,
            "action": action,
            "form": form,
            "rows": [(v, active.get(v.parameter), _approval_warning(v, active.get(v.parameter))) for v in versions],
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/guards/parameterversion/decide.html", context)


@admin.register(models.ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def get_readonly_fields(self, request, obj=None):
        """Only the label of an issued token may change: whose it is stays, and revoking is one way."""
        if obj is None:
            return ("prefix", "created_at", "last_used_at", "revoked_at")
        return ("user", "prefix", "created_at", "last_used_at", "revoked_at")

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, row = issue_token(user=obj.user, name=obj.name)
        obj.pk, obj.prefix, obj.token_hash = row.pk, row.prefix, row.token_hash
        self.message_user(request, f"New token (shown once, copy it now): {token}", messages.WARNING)

    @admin.action(permissions=["change"], description="Revoke selected tokens (the bot using them is locked out)")
    def revoke(self, request, queryset):
        revoked = list(queryset.filter(revoked_at__isnull=True))
        models.ApiToken.objects.filter(pk__in=[t.pk for t in revoked]).update(revoked_at=timezone.now())
        for token in revoked:
            self.log_change(request, token, "Revoked")  # who and when, in the admin's history
        self.message_user(request, f"Revoked {len(revoked)} token(s).")
