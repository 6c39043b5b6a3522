"""The what-if page (SPEC §6): a candidate value replayed over the optimizer's window, and the
button that files it as a proposal. Thin views over dashboard/whatif.py."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dashboard import whatif
from dashboard.views import login_required
from dashboard.whatif import BadCandidate
from guards.domain.params import SPECS
from guards.parameters import active_version

PAGE = "dashboard/whatif.html"
PROPOSE_PERMISSION = "guards.add_parameterversion"  # the proposer role, as the admin asks for it


def _choices() -> list[dict[str, Any]]:
    """Each replayable parameter with its active value and what it may be, for the form."""
    choices = []
    for name in whatif.PARAMETERS:
        active = active_version(name)
        choices.append(
            {
                "name": name,
                "label": SPECS[name].label,
                "active": active,
                "shown": SPECS[name].display(active.value) if active else "—",
                "allowed": SPECS[name].allowed(),
            }
        )
    return choices


def _form(request: HttpRequest) -> dict[str, Any]:
    return {
        "choices": _choices(),
        "chosen": request.GET.get("parameter") or request.POST.get("parameter") or whatif.PARAMETERS[0],
        "typed": request.GET.get("value") or request.POST.get("value", ""),
        "may_propose": request.user.has_perm(PROPOSE_PERMISSION),
    }


@require_GET
@login_required
def what_if(request: HttpRequest) -> HttpResponse:
    """The form; with a parameter and value, the replay under it. Bad input: 400, named in the form."""
    context = _form(request)
    partial = f"{PAGE}#whatif-panel" if getattr(request, "htmx", False) else PAGE
    if "value" not in request.GET:
        return render(request, partial, context)
    try:
        parameter, value = whatif.parse_request(request.GET)
    except BadCandidate as exc:
        return render(request, partial, {**context, "error": exc}, status=400)
    result = whatif.what_if(parameter, value, now=timezone.now())
    return render(request, partial, {**context, "result": result, "parameter": parameter, "candidate": value})


@require_POST
@login_required
def propose(request: HttpRequest) -> HttpResponse:
    """File the candidate as a proposal by this person (the proposer role), the what-if as evidence."""
    if not request.user.has_perm(PROPOSE_PERMISSION):
        return render(request, f"{PAGE}#proposal", {"refused": "you lack the permission to propose values"}, status=403)
    try:
        parameter, value = whatif.parse_request(request.POST)
    except BadCandidate as exc:
        return render(request, f"{PAGE}#proposal", {"error": exc}, status=400)
    result = whatif.what_if(parameter, value, now=timezone.now(), with_curve=False)  # the evidence has no curve
    if result is None or result.is_active:
        why = "it is the active value already" if result else f"{parameter} has no active version"
        return render(request, f"{PAGE}#proposal", {"error": BadCandidate("value", why)}, status=400)
    version = whatif.file_proposal(result, proposer=request.user, reason=request.POST.get("reason", ""))
    admin_url = reverse("admin:guards_parameterversion_change", args=[version.pk])
    changelist = f"{reverse('admin:guards_parameterversion_changelist')}?parameter={parameter}"
    return render(
        request,
        f"{PAGE}#proposal",
        {
            "version": version,
            "shown": SPECS[parameter].display(version.value),
            "admin_url": admin_url,
            "changelist": changelist,
        },
        status=201,
    )
