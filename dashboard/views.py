"""The dashboard's pages and panels (SPEC §6): thin views over the context builders in panels.py.

A page renders every one of its panels; each panel has its own URL that renders just its partial,
which HTMX polls. Everything is behind the admin's login.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect

from dashboard.panels import PANELS
from guards.domain.pairs import normalise_pair

OVERVIEW_PANELS = ("cvd", "magnet", "positions")
HEALTH_PANELS = ("inputs", "failures", "plan", "limits")


def login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The admin's login for anonymous visitors. A panel's poll whose session has ended sends the
    whole page to the login (HX-Redirect) instead of swapping the login form into the panel."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        htmx = getattr(request, "htmx", None)
        if htmx and htmx.current_url_abs_path:
            return HttpResponseClientRedirect(redirect_to_login(htmx.current_url_abs_path).url)
        return redirect_to_login(request.get_full_path())

    return wrapper


VISIBLE = "[document.visibilityState === 'visible']"


def poll_trigger(seconds: int) -> str:
    """A panel's hx-trigger: every `seconds` while its tab is visible (a hidden tab asks for
    nothing), and at once when the tab is shown again."""
    return f"every {seconds}s {VISIBLE}, visibilitychange from:document {VISIBLE}"


class BadSymbol(ValueError):
    pass


def chosen_symbol(request: HttpRequest) -> str:
    """The `symbol` query parameter (any case), one of WATCHED_SYMBOLS; the first one by default."""
    raw = request.GET.get("symbol", "")
    if not raw:
        return settings.WATCHED_SYMBOLS[0]
    try:
        symbol = normalise_pair(raw)
    except ValueError as exc:
        raise BadSymbol(f"symbol: {exc}") from None
    if symbol not in settings.WATCHED_SYMBOLS:
        raise BadSymbol(f"symbol: {symbol} is not watched here; choose one of {', '.join(settings.WATCHED_SYMBOLS)}")
    return symbol


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "dashboard/bad_request.html", {"message": message}, status=400)


def _context(request: HttpRequest, names: tuple[str, ...]) -> dict:
    symbol, now = chosen_symbol(request), timezone.now()
    context = {name: PANELS[name].build(symbol=symbol, now=now) for name in names}
    return context | {
        "symbol": symbol,
        "symbols": settings.WATCHED_SYMBOLS,
        "refresh_seconds": settings.DASHBOARD_REFRESH_SECONDS,
        "poll_trigger": poll_trigger(settings.DASHBOARD_REFRESH_SECONDS),
    }


def _page(request: HttpRequest, template: str, names: tuple[str, ...]) -> HttpResponse:
    try:
        context = _context(request, names)
    except BadSymbol as exc:
        return _bad_request(request, str(exc))
    return render(request, template, context)


@require_GET
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    return _page(request, "dashboard/overview.html", OVERVIEW_PANELS)


@require_GET
@login_required
def data_health(request: HttpRequest) -> HttpResponse:
    return _page(request, "dashboard/health.html", HEALTH_PANELS)


@require_GET
@login_required
def panel(request: HttpRequest, name: str) -> HttpResponse:
    """One panel's partial, as its HTMX poll asks for it."""
    if name not in PANELS:
        raise Http404(f"no panel named {name!r}")
    try:
        context = _context(request, (name,))
    except BadSymbol as exc:
        return _bad_request(request, str(exc))
    return render(request, PANELS[name].template, context)
