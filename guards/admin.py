"""Admin: the operator's view. Records of what happened are read-only; tokens are shown once."""

import re
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django_celery_beat import admin as beat_admin
from django_celery_beat import models as beat_models

from guards import models, parameters
from guards.domain.params import SPECS, WHALE_THRESHOLD, below_detail_floor, below_replay_floor, validate_value
from guards.domain.spec import CHOICE, GUARD_ORDER, ParameterSpec
from guards.parameters import (
    ApprovalError,
    active_version,
    approve_version,
    propose_again,
    propose_version,
    refusal_reason,
    reject_version,
)
from guards.tokens import forget_tokens, issue_token

Status = models.ParameterVersion.Status


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
    list_display = (
        "evaluated_at",
        "signal_id",
        "symbol",
        "direction",
        "allowed",
        "blocked_by",
        "final_size",
        "shadow_status",
        "shadow_pnl",
    )
    list_filter = ("allowed", "blocked_by", "symbol", "direction", "shadow_status")
    readonly_fields = (
        "shadow_status",
        "shadow_size",
        "shadow_entry_price",
        "shadow_exit_price",
        "shadow_pnl",
        "shadow_computed_at",
    )
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
    """The audit trail: every proposal, decision and refused attempt, with old and new value."""

    list_display = ("created_at", "parameter", "version_number", "action", "old", "new", "actor", "reason")
    list_filter = ("parameter", "action")
    list_select_related = ("version", "actor")
    fields = ("created_at", "parameter", "version", "action", "old", "new", "actor", "reason")
    readonly_fields = fields

    @admin.display(description="version", ordering="version__version")
    def version_number(self, change):
        return f"v{change.version.version}"

    @admin.display(description="old value")
    def old(self, change):
        return shown(change.parameter, change.old_value)

    @admin.display(description="new value")
    def new(self, change):
        return shown(change.parameter, change.new_value)


def shown(parameter: str, value) -> str:
    """A stored value in the operator's words, with its unit (100,000 USD, 45 minutes)."""
    spec = SPECS.get(parameter)
    return spec.display(value) if spec else str(value)


class DecisionForm(forms.Form):
    """The why of an approval, a rejection or a proposal made again, kept in the audit trail (SPEC §5.5)."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=2000)


def _approval_warning(version, active_value) -> str:
    if version.parameter != WHALE_THRESHOLD or active_value is None:
        return ""
    try:
        below_detail, below_replay = (
            below_detail_floor(version.value, active_value),
            below_replay_floor(version.value, active_value),
        )
    except (ArithmeticError, TypeError, ValueError):  # a damaged stored value: no warning to compute
        return ""
    if below_detail:
        return (
            "Below 40% of the active threshold: the stored whale flow cannot be split there, so the Whale "
            "Intent Filter fails open until the window has been read again (up to the whale flow window)."
        )
    if below_replay:
        return (
            "Below 50% of the active threshold: the filter works at once, but for up to the whale flow window "
            "the optimizer cannot replay the lowest candidates (-20%) on minutes stored at the old floor."
        )
    return ""


class GuardOrderField(forms.CharField):
    """Guard names separated by commas (or arrows), in the order they run."""

    def to_python(self, value):
        text = super().to_python(value)
        return [name for name in re.split(r"[\s,>→-]+", text) if name] if text else []


def _value_field(spec: ParameterSpec, active) -> forms.Field:
    """A typed field for one parameter: its unit in the label, its range and active value beside it."""
    now = f"Active now: {spec.display(active.value)} (v{active.version})." if active else "No active version."
    help_text = f"{spec.help} Allowed: {spec.allowed()}. {now}"
    label = f"New value{f' ({spec.unit})' if spec.unit else ''}"
    if spec.kind == CHOICE:
        return forms.ChoiceField(label=label, choices=[(c, c) for c in spec.choices], help_text=help_text)
    if spec.kind == GUARD_ORDER:
        return GuardOrderField(
            label=label,
            help_text=help_text,
            widget=forms.TextInput(attrs={"size": 70, "placeholder": ", ".join(spec.default)}),
        )
    # Text input, not type=number: the server's message says what is wrong, not a browser tooltip.
    return forms.DecimalField(label=label, help_text=help_text, widget=forms.TextInput(attrs={"inputmode": "decimal"}))


def proposal_form(spec: ParameterSpec, active) -> type[forms.ModelForm]:
    class ProposalForm(forms.ModelForm):
        value = _value_field(spec, active)
        reason = forms.CharField(
            label="Why",
            widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
            max_length=2000,
            help_text="Kept in the audit trail; the approver reads it.",
        )

        class Meta:
            model = models.ParameterVersion
            fields = ("reason",)

        def clean_value(self):
            try:
                return validate_value(spec.name, self.cleaned_data["value"])
            except ValueError as exc:
                raise forms.ValidationError(f"{spec.label} {exc}.") from None

    return ProposalForm


DECISIONS = {
    "approve": ("Approve", "Yes, approve"),
    "reject": ("Reject", "Yes, reject"),
    "propose_again": ("Propose again", "Yes, propose this value again"),
}


@admin.register(models.ParameterVersion)
class ParameterVersionAdmin(admin.ModelAdmin):
    """Propose by adding (a typed form per parameter); approve, reject or propose again with the
    buttons on each row, which appear only where they can succeed (SPEC §5.5)."""

    list_display = ("parameter", "version_number", "value_shown", "status", "proposed_by", "approved_by", "origin")
    list_filter = ("parameter", "status", "origin")
    list_select_related = ("proposed_by", "approved_by")
    actions = None
    detail_fields = (
        "parameter",
        "version",
        "value_shown",
        "status",
        "origin",
        "reason",
        "proposed_by",
        "created_at",
        "approved_by",
        "approved_at",
        "auto_approved",
        "evidence",
    )

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="version", ordering="version")
    def version_number(self, version):
        return f"v{version.version}"

    @admin.display(description="value")
    def value_shown(self, version):
        return shown(version.parameter, version.value)

    def get_list_display(self, request):
        def decide(version):
            return self._buttons(request, version)

        decide.short_description = "decide"
        # The buttons right after the status, so they are on screen beside the filters.
        return ("parameter", "version_number", "value_shown", "status", decide, "proposed_by", "approved_by", "origin")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The detail page offers the same buttons as the row, in the object tools."""
        version = self.get_object(request, object_id)
        buttons = self._buttons(request, version, '<li><a class="decide-{}" href="{}">{}</a></li>') if version else ""
        return super().change_view(request, object_id, form_url, {"decide_buttons": buttons, **(extra_context or {})})

    def _buttons(self, request, version, template='<a class="button decide-{}" href="{}">{}</a>'):
        offered = []
        if refusal_reason(version, request.user) is None:
            offered += [("approve", "Approve"), ("reject", "Reject")]
        if version.status in (Status.SUPERSEDED, Status.REJECTED) and self.has_add_permission(request):
            offered.append(("propose_again", "Propose again"))
        return format_html_join(
            " ",
            template,
            (
                (action, reverse(f"admin:guards_parameterversion_{action}", args=[version.pk]), text)
                for action, text in offered
            ),
        )

    # --- Proposing: pick a parameter, then a typed form for it ----------------------------------

    def get_fields(self, request, obj=None):
        return ("value", "reason") if obj is None else self.detail_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.detail_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        spec = SPECS[request.GET["parameter"]]
        return proposal_form(spec, active_version(spec.name))

    def add_view(self, request, form_url="", extra_context=None):
        name = request.GET.get("parameter")
        if name not in SPECS:
            if name is not None:
                self.message_user(request, f"There is no parameter called {name!r}.", messages.ERROR)
            return self._parameter_picker(request)
        spec = SPECS[name]
        context = {
            "title": f"Propose a new {spec.label.lower()}",
            "subtitle": spec.name,
            "show_save_and_add_another": False,  # each proposal starts from the parameter table
            "show_save_and_continue": False,
            **(extra_context or {}),
        }
        return super().add_view(request, form_url, context)

    def _parameter_picker(self, request):
        active = {v.parameter: v for v in models.ParameterVersion.objects.filter(status=Status.ACTIVE)}
        rows = [
            (spec, active.get(name), shown(name, getattr(active.get(name), "value", None)))
            for name, spec in SPECS.items()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Propose a new parameter value",
            "opts": self.model._meta,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/guards/parameterversion/pick.html", context)

    def save_model(self, request, obj, form, change):
        previous = parameters.active_value(request.GET["parameter"])
        version = propose_version(
            parameter=request.GET["parameter"],
            value=form.cleaned_data["value"],
            proposer=request.user,
            reason=form.cleaned_data["reason"],
        )
        obj.pk, obj.version, obj.status, obj.parameter = version.pk, version.version, version.status, version.parameter
        obj.value, obj.proposed_old_value = version.value, previous

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, f"{_proposed_message(obj, obj.proposed_old_value)}.", messages.SUCCESS)
        return redirect(f"{reverse('admin:guards_parameterversion_changelist')}?parameter={obj.parameter}")

    # --- Deciding: one version at a time, on a confirmation page that asks why -------------------

    def get_urls(self):
        def route(action):
            view = self.admin_site.admin_view(partial(self.decide_view, action=action))
            return path(f"<path:object_id>/{action.replace('_', '-')}/", view, name=f"guards_parameterversion_{action}")

        return [route(action) for action in DECISIONS] + super().get_urls()

    def decide_view(self, request, object_id, action: str):
        version = self.get_object(request, object_id)
        if version is None or not self.has_view_permission(request, version):
            raise PermissionDenied
        back = f"{reverse('admin:guards_parameterversion_changelist')}?parameter={version.parameter}"
        form = DecisionForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            self._decide(request, version, action, form.cleaned_data["reason"])
            return redirect(back)
        if request.method != "POST" and (refusal := self._refusal(request, version, action)):
            self.message_user(request, f"{DECISIONS[action][0]} is not possible: {refusal}.", messages.ERROR)
            return redirect(back)
        active = active_version(version.parameter)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{DECISIONS[action][0]} {version.parameter} v{version.version}?",
            "opts": self.model._meta,
            "action": action,
            "confirm_label": DECISIONS[action][1],
            "form": form,
            "version": version,
            "spec": SPECS.get(version.parameter),
            "active": active,
            "active_shown": shown(version.parameter, active.value) if active else "—",
            "value_shown": shown(version.parameter, version.value),
            "warning": _approval_warning(version, active.value if active else None) if action != "reject" else "",
            "back": back,
        }
        return TemplateResponse(request, "admin/guards/parameterversion/decide.html", context)

    def _refusal(self, request, version, action: str) -> str | None:
        if action == "propose_again":
            if not self.has_add_permission(request):
                return "you lack the permission to propose parameter values"
            if version.status not in (Status.SUPERSEDED, Status.REJECTED):
                return f"v{version.version} is {version.status.lower()}; only an earlier value can be proposed again"
            return None
        return refusal_reason(version, request.user)

    def _decide(self, request, version, action: str, reason: str) -> None:
        decide = {"approve": self._approve, "reject": self._reject, "propose_again": self._propose_again}[action]
        try:
            text = decide(request, version, reason)
        except (ApprovalError, ValueError) as exc:
            self.message_user(request, f"{DECISIONS[action][0]} refused: {exc}.", messages.ERROR)
            return
        self.message_user(request, text, messages.SUCCESS)

    def _approve(self, request, version, reason: str) -> str:
        previous = active_version(version.parameter)
        done = approve_version(version=version, approver=request.user, now=timezone.now(), reason=reason)
        was = f"; v{previous.version} ({shown(previous.parameter, previous.value)}) is superseded" if previous else ""
        return f"Approved: {done.parameter} is now {shown(done.parameter, done.value)} (v{done.version}){was}."

    def _reject(self, request, version, reason: str) -> str:
        done = reject_version(version=version, rejecter=request.user, reason=reason)
        stays = shown(done.parameter, parameters.active_value(done.parameter))
        return f"Rejected {done.parameter} v{done.version} ({shown(done.parameter, done.value)}); it stays {stays}."

    def _propose_again(self, request, version, reason: str) -> str:
        if not self.has_add_permission(request):
            raise ApprovalError("you lack the permission to propose parameter values")
        previous = parameters.active_value(version.parameter)
        done = propose_again(version=version, proposer=request.user, reason=reason)
        return f"{_proposed_message(done, previous)}. This is the value of v{version.version}, proposed again."


def _proposed_message(version, previous_value) -> str:
    return (
        f"Proposed {version.parameter} v{version.version} = {shown(version.parameter, version.value)} "
        f"(active now: {shown(version.parameter, previous_value)}). It takes effect once another person "
        "with the approver role approves it"
    )


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
        forget_tokens()  # at once here; other processes within a second (guards/tokens.py)
        for token in revoked:
            self.log_change(request, token, "Revoked")  # who and when, in the admin's history
        self.message_user(request, f"Revoked {len(revoked)} token(s).")


class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    """Beat rows as django-celery-beat shows them, except that its enable / disable / toggle / run
    actions declare no permission, so a view-only auditor could stop every fetch: here they
    need the change permission, like the edit form."""

    def get_actions(self, request):
        return super().get_actions(request) if self.has_change_permission(request) else {}


admin.site.unregister(beat_models.PeriodicTask)
admin.site.register(beat_models.PeriodicTask, PeriodicTaskAdmin)
