"""The audit trail's page and panels (SPEC §6): thin views over dashboard/audit.py.

`/audit/` renders every panel; each panel has its own URL that renders just its partial for
HTMX (filters and pages swap the panel and push the URL). The same URL opened directly, or
reloaded, renders the whole page with that state. A filter or page value that cannot be used is
answered 400 with the field named.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard import audit
from dashboard.audit import BadFilter, Cursor, EventFilter
from dashboard.views import login_required
from guards.domain.params import SPECS
from optimizer.runs import PARAMETERS as OPTIMIZED

PAGE = "dashboard/audit.html"


def _older(query: QueryDict, field: str, cursor: Cursor | None) -> str | None:
    """The query string of the next page: these filters, this panel's cursor moved on."""
    if cursor is None:
        return None
    moved = query.copy()
    moved[field] = str(cursor)
    return moved.urlencode()


def _newest(query: QueryDict, field: str) -> str:
    first = query.copy()
    first.pop(field, None)
    return first.urlencode()


def _paged(query: QueryDict, name: str, cursor_field: str, read: Callable[[Any], Any]) -> dict[str, Any]:
    """One panel's page from `read(cursor)`, with the links to the older page and back to the newest."""
    cursor = Cursor.parse(cursor_field, query.get(cursor_field))
    page = read(cursor)
    return {
        name: page,
        f"{name}_older": _older(query, cursor_field, page.next),
        f"{name}_newest": _newest(query, cursor_field) if cursor else None,
    }


def _events(query: QueryDict) -> dict[str, Any]:
    filters = EventFilter.parse(query)
    return _paged(query, "events", "before", lambda cursor: audit.guard_events(filters, cursor))


def _versions(query: QueryDict) -> dict[str, Any]:
    parameter = audit.parse_parameter(query, "parameter")
    return _paged(query, "versions", "versions_before", lambda cursor: audit.parameter_versions(parameter, cursor))


def _runs(query: QueryDict) -> dict[str, Any]:
    parameter = audit.parse_parameter(query, "run_parameter", among=OPTIMIZED)
    return _paged(query, "runs", "runs_before", lambda cursor: audit.optimizer_runs(parameter, cursor))


def _reports(query: QueryDict) -> dict[str, Any]:
    return _paged(query, "reports", "reports_before", audit.effectiveness_runs)


PANELS: dict[str, Callable[[QueryDict], dict[str, Any]]] = {
    "events": _events,
    "versions": _versions,
    "runs": _runs,
    "reports": _reports,
}


def _panel_context(request: HttpRequest, names: Sequence[str]) -> tuple[dict[str, Any], int]:
    """The panels' contexts; a panel whose filter is unusable shows why instead (status 400)."""
    context: dict[str, Any] = {
        "q": request.GET,
        "guards": audit.GUARDS,
        "decisions": audit.DECISIONS,
        "parameters": tuple(SPECS),
        "optimized": OPTIMIZED,
        "refresh_seconds": settings.DASHBOARD_REFRESH_SECONDS,
    }
    status = 200
    for name in names:
        try:
            context |= PANELS[name](request.GET)
        except BadFilter as exc:
            context[f"{name}_error"], status = exc, 400
    return context, status


@require_GET
@login_required
def audit_trail(request: HttpRequest) -> HttpResponse:
    context, status = _panel_context(request, tuple(PANELS))
    return render(request, PAGE, context, status=status)


@require_GET
@login_required
def audit_panel(request: HttpRequest, name: str) -> HttpResponse:
    """One panel's partial for HTMX; opened directly (or reloaded after a push), the whole page."""
    if name not in PANELS:
        raise Http404(f"no audit panel named {name!r}")
    if not getattr(request, "htmx", False):
        return audit_trail(request)
    context, status = _panel_context(request, (name,))
    return render(request, f"{PAGE}#{name}", context, status=status)


@require_GET
@login_required
def decision(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    """One decision opened: its inputs, the parameter versions it used, its shadow outcome."""
    found = audit.decision_detail(evaluation_id)
    if found is None:
        raise Http404("no such decision")
    evaluation, events, used = found
    context = {"evaluation": evaluation, "decision_events": events, "used_versions": used}
    template = "dashboard/audit_decision.html"
    return render(request, f"{template}#decision" if getattr(request, "htmx", False) else template, context)
