"""What each dashboard panel shows: one context builder per panel, reading what the guards read.

Builders take the symbol and `now` and return a dict; they call the guards' selectors and the
pure domain functions (the same split, the same clusters, the same staleness verdict the guards
use) and never a market-data API. Every query is indexed and bounded (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from redis.exceptions import RedisError

from dashboard.freshness import Freshness, freshness, moment
from guards import selectors
from guards.domain import inputs
from guards.domain.clusters import NearCluster, top_clusters
from guards.domain.cvd import FlowSplit, cents_to_usd
from guards.domain.hold import HeldPosition, cluster_ahead
from guards.domain.params import WHALE_THRESHOLD
from guards.domain.types import Direction
from guards.events import DataOutcome, EventType
from guards.intel import snapshots
from guards.marketdata.limiter import SOURCES, get_limiter
from guards.models import DataHealthEvent, GuardEvent, InputAvailability, Position, SourcePlan

# Colours shared by the charts: buying / selling, and the two cluster sides.
BUY, SELL = "#2e7d32", "#c62828"
SHORT_SIDE, LONG_SIDE = "#c62828", "#2e7d32"  # above the price shorts are liquidated, below longs


def _direction(cents: int) -> str:
    return "buying" if cents > 0 else "selling" if cents < 0 else "flat"


# --- Whale vs retail CVD divergence -------------------------------------------------------------


def cvd_divergence(*, symbol: str, now: datetime) -> dict[str, Any]:
    """Whale and retail flow at the active whale threshold, split as the Whale Intent Filter splits it."""
    params = selectors.active_parameters()
    intel = selectors.intel_for(symbol=symbol, params=params, kinds=(inputs.WHALE_FLOW,))
    split: FlowSplit | None = intel.get(inputs.WHALE_FLOW)
    figures = _flow_figures(split)
    return {
        "symbol": symbol,
        "age": freshness(intel, inputs.WHALE_FLOW, now),
        "flow": figures,
        "divergent": bool(split and split.divergent),
        "status": _divergence_status(split),
        "threshold_usd": params.decimal(WHALE_THRESHOLD),
        "threshold_version": params.version(WHALE_THRESHOLD),
        "threshold_problem": params.problem(WHALE_THRESHOLD),
        "window_minutes": params.integer("whale_window_minutes"),
        "chart": {
            "labels": ["Whale buy", "Whale sell", "Retail buy", "Retail sell"],
            "datasets": [
                {
                    "label": "USD",
                    "data": [float(figures[k]) if figures else 0.0 for k in _BARS],
                    "backgroundColor": [BUY, SELL, BUY + "99", SELL + "99"],
                }
            ],
        },
    }


_BARS = ("whale_buy", "whale_sell", "retail_buy", "retail_sell")


def _flow_figures(split: FlowSplit | None) -> dict[str, Any] | None:
    if split is None:
        return None
    usd = {name: cents_to_usd(getattr(split, f"{name}_cents")) for name in (*_BARS, "whale_cvd", "retail_cvd")}
    return usd | {
        "whale_direction": _direction(split.whale_cvd_cents),
        "retail_direction": _direction(split.retail_cvd_cents),
    }


def _divergence_status(split: FlowSplit | None) -> str:
    if split is None:
        return "No usable flow"
    if split.divergent:
        return "Diverging"
    if split.whale_cvd_cents == 0 or split.retail_cvd_cents == 0:
        return "No divergence (one side flat)"
    return "Aligned"


# --- Liquidation magnet --------------------------------------------------------------------------


@dataclass(frozen=True)
class MagnetView:
    """The clusters as the min-hold rule sees them, measured from the latest price."""

    heatmap_age: Freshness
    price_age: Freshness
    price: Decimal | None
    window_pct: Decimal
    near: Sequence[NearCluster]  # every cluster within the window, strongest first (top_clusters' order)

    @property
    def top(self) -> Sequence[NearCluster]:
        return self.near[:2]  # top_clusters(..., n=2) is exactly this prefix

    @property
    def nearest(self) -> NearCluster | None:
        return min(self.near, key=lambda c: c.distance_pct, default=None)


MAGNET_INPUTS = (inputs.LIQUIDATION, inputs.PRICE_BARS)


def magnet_view(*, symbol: str, now: datetime, read: dict[str, Any] | None = None) -> MagnetView:
    """`read`: the cache entries already read for `symbol` (selectors.read_for_signal), if any."""
    params = selectors.active_parameters(read)
    intel = selectors.intel_for(symbol=symbol, params=params, kinds=MAGNET_INPUTS, read=read)
    clusters = intel.get(inputs.LIQUIDATION) or ()
    price: Decimal | None = intel.get(inputs.PRICE_BARS)
    window = params.decimal("cluster_window_pct")
    near = top_clusters(clusters, price, window_pct=window, n=len(clusters)) if price and clusters else []
    return MagnetView(
        freshness(intel, inputs.LIQUIDATION, now), freshness(intel, inputs.PRICE_BARS, now), price, window, near
    )


def liquidation_magnet(*, symbol: str, now: datetime) -> dict[str, Any]:
    """The nearest cluster and the top two within the cluster window, plus the heatmap around the price."""
    read = selectors.read_for_signal(symbol, MAGNET_INPUTS)  # one cache round trip for the panel
    view = magnet_view(symbol=symbol, now=now, read=read)
    return {
        "symbol": symbol,
        "view": view,
        "age": view.heatmap_age,
        "chart": _concentration_chart(_latest_levels(symbol, read), view.price, view.window_pct),
    }


def _concentration_chart(
    levels: list[tuple[Decimal, Decimal]], price: Decimal | None, window_pct: Decimal
) -> dict[str, Any]:
    """Liquidation USD per price level of the heatmap's latest column, within twice the cluster
    window of the price; levels above the price (short liquidations) and below (long) coloured apart."""
    span = price * window_pct * 2 / 100 if price else Decimal(0)
    shown = sorted((p, usd) for p, usd in levels if price and abs(p - price) <= span)
    below = sum(1 for p, _ in shown if price and p < price)
    return {
        "labels": [_axis_price(p) for p, _ in shown],
        # Where the price falls between the bars (category index), drawn as a line by dashboard.js.
        "priceIndex": below - 0.5 if shown else None,
        "priceLabel": f"price {price:,.2f}" if price else "",
        "datasets": [
            {
                "label": "Liquidations (USD)",
                "data": [float(usd) for _, usd in shown],
                "backgroundColor": [SHORT_SIDE if price and p >= price else LONG_SIDE for p, _ in shown],
            }
        ],
    }


def _axis_price(price: Decimal) -> str:
    """A price level short enough for an axis: whole units from 1,000 up, else two decimals."""
    return f"{price:,.0f}" if price >= 1000 else f"{price:,.2f}"


def _latest_levels(symbol: str, read: dict[str, Any]) -> list[tuple[Decimal, Decimal]]:
    """[(price, USD)] of the stored heatmap column; an entry that is not two numbers is left out."""
    payload = snapshots.latest_snapshot_payload(symbol, inputs.LIQUIDATION, read) or {}
    raw = payload.get("raw")
    rows = raw.get("latest_column_levels") if isinstance(raw, dict) else None
    levels = []
    for row in rows if isinstance(rows, list) else ():
        try:
            price, usd = (Decimal(str(v)) for v in row)
        except (TypeError, ValueError, InvalidOperation):
            continue
        if price.is_finite() and usd.is_finite() and price > 0 and usd > 0:
            levels.append((price, usd))
    return levels


# --- Open positions and their holds -----------------------------------------------------------

POSITIONS_SHOWN = 20


def open_positions(*, symbol: str, now: datetime) -> dict[str, Any]:
    """Open positions of `symbol` (latest answer first), the hold each got and why, and the cluster
    ahead of each now, measured from the latest price as the min-hold rule measures it."""
    rows = list(Position.objects.filter(is_open=True, symbol=symbol).order_by("-updated_at")[: POSITIONS_SHOWN + 1])
    view = magnet_view(symbol=symbol, now=now, read=selectors.read_for_signal(symbol, MAGNET_INPUTS))
    why = _hold_events(rows[:POSITIONS_SHOWN])
    return {
        "symbol": symbol,
        "age": view.price_age,
        "more": len(rows) > POSITIONS_SHOWN,
        "positions": [_position(row, view, why.get(row.position_id, {}), now) for row in rows[:POSITIONS_SHOWN]],
    }


def _position(row: Position, view: MagnetView, why: dict[str, Any], now: datetime) -> dict[str, Any]:
    price = view.price or row.current_price
    held = HeldPosition(
        row.symbol, Direction(row.direction), row.strategy, row.entry_price, price, row.opened_at, row.position_id
    )
    return {
        "row": row,
        "answered": moment(row.updated_at, now),
        "hold_minutes": row.min_hold_seconds // 60,
        "held": bool(row.hold_until and row.hold_until > now),
        "reason": why.get("reason", ""),
        "fail_open": why.get("fail_open", []),
        "ahead": cluster_ahead(held, view.top) if view.heatmap_age.trusted else None,  # as the hold rule
        "price_at_hand": price,
    }


def _hold_events(rows: Sequence[Position]) -> dict[str, dict[str, Any]]:
    """The min-hold events behind each position's latest answer: recorded in the same transaction
    with `created_at` equal to the position's `updated_at` (guards/holds.py), so they are found by
    the indexed `created_at`, never by scanning a position's history."""
    if not rows:
        return {}
    events = GuardEvent.objects.filter(
        created_at__in={r.updated_at for r in rows},
        guard=EventType.LIQ_MAGNET,
        position_id__in=[r.position_id for r in rows],
    ).values_list("position_id", "event_type", "reason", "created_at")
    answered_at = {r.position_id: r.updated_at for r in rows}
    found: dict[str, dict[str, Any]] = {}
    for position_id, event_type, reason, created_at in events:
        if created_at != answered_at.get(position_id):
            continue
        entry = found.setdefault(position_id, {"reason": "", "fail_open": []})
        if event_type == EventType.LIQ_MAGNET:
            entry["reason"] = reason
        else:
            entry["fail_open"].append(_named_input(reason))
    return found


def _named_input(problem: str) -> str:
    """A fail-open reason as an operator reads it: "max_pain: MISSING" -> "Options max pain: MISSING"."""
    kind, sep, code = problem.partition(": ")
    return f"{inputs.LABELS[kind]}: {code}" if sep and kind in inputs.LABELS else problem


# --- Data health ---------------------------------------------------------------------------------

FAILURES_SHOWN = 25
FAILURE_HOURS = 24
QUIET_OUTCOMES = (DataOutcome.OK, DataOutcome.CACHED)


def _input_rows() -> list[tuple[str, str]]:
    """(stored symbol, input kind) for every input the beat fetches: market-wide ones once."""
    rows = [(s, k) for s in settings.WATCHED_SYMBOLS for k in inputs.ALL if k not in inputs.MARKET_WIDE]
    return rows + [(inputs.MARKET_WIDE_SYMBOL, k) for k in inputs.ALL if k in inputs.MARKET_WIDE]


def input_health(*, symbol: str, now: datetime) -> dict[str, Any]:
    """Last good fetch and last attempt of every input and symbol, aged as the guards age them."""
    params = selectors.active_parameters()
    pairs = _input_rows()
    latest = _rows_of((_health(s, k)[:1] for s, k in pairs), newest=len(pairs))
    last = {(e.symbol, e.kind): e for e in latest}
    rows: list[dict[str, Any]] = []
    reads: dict[str, dict[str, Any]] = {}  # one cache round trip per pair, not one per row
    for stored_symbol, kind in pairs:
        read_as = settings.WATCHED_SYMBOLS[0] if stored_symbol == inputs.MARKET_WIDE_SYMBOL else stored_symbol
        if read_as not in reads:
            reads[read_as] = selectors.read_for_signal(read_as, inputs.ALL)
        intel = selectors.intel_for(symbol=read_as, params=params, kinds=(kind,), read=reads[read_as])
        attempt = last.get((stored_symbol, kind))
        rows.append(
            {
                "symbol": "all pairs" if stored_symbol == inputs.MARKET_WIDE_SYMBOL else stored_symbol,
                "label": inputs.LABELS[kind],
                "age": freshness(intel, kind, now),
                "ttl_seconds": params.ttl_seconds(kind),
                "attempt": attempt,
                "attempt_age": moment(attempt.created_at if attempt else None, now),
            }
        )
    stale = sum(1 for r in rows if not r["age"].trusted)
    return {"rows": rows, "age": moment(now, now), "stale_count": stale}


def _health(symbol: str, kind: str, *, failed_since: datetime | None = None) -> QuerySet[DataHealthEvent]:
    """One input's fetch records, newest first: an index range (kind, symbol, -created_at); with
    `failed_since`, only the fetches since then that brought no fresh data."""
    records = DataHealthEvent.objects.filter(kind=kind, symbol=symbol)
    if failed_since is not None:
        records = records.filter(created_at__gte=failed_since).exclude(outcome__in=QUIET_OUTCOMES)
    return records.order_by("-created_at")


def _rows_of(querysets: Iterable[QuerySet[DataHealthEvent]], newest: int) -> list[DataHealthEvent]:
    """The `newest` rows of several small indexed queries, newest first: one round trip where the
    database takes a LIMIT inside a UNION ALL (PostgreSQL), else one query each (SQLite, where a
    query is a function call, not a round trip)."""
    first, *rest = list(querysets)
    if connection.features.supports_slicing_ordering_in_compound:
        return list(first.union(*rest, all=True).order_by("-created_at")[:newest])
    found = [row for queryset in (first, *rest) for row in queryset]
    return sorted(found, key=lambda e: e.created_at, reverse=True)[:newest]


def recent_failures(*, symbol: str, now: datetime) -> dict[str, Any]:
    """Fetches that did not bring fresh data in the last day, newest first, with their reason codes."""
    since = now - timedelta(hours=FAILURE_HOURS)
    # one index range per input: bounded however long the history
    found = _rows_of((_health(s, k, failed_since=since)[:FAILURES_SHOWN] for s, k in _input_rows()), FAILURES_SHOWN)
    newest = found[0].created_at if found else None
    return {"failures": found, "hours": FAILURE_HOURS, "age": moment(newest, now)}


def plan_gaps(*, symbol: str, now: datetime) -> dict[str, Any]:
    """Inputs the key's plan does not include, with the plan each needs (re-checked daily)."""
    rows = list(InputAvailability.objects.order_by("kind")[:20])
    checked = max((r.detected_at for r in rows), default=None)
    return {"rows": rows, "age": moment(checked, now)}


def rate_limits(*, symbol: str, now: datetime) -> dict[str, Any]:
    """Each source's calls (or weight) in the last 60 s against its budget, from the shared limiter
    (one small read per source), beside the plan the key was last seen on."""
    limiter = get_limiter()
    plans = {p.source: p for p in SourcePlan.objects.all()[:10]}
    sources = []
    for source in SOURCES:
        usage: dict[str, Any] | None = None
        problem: str | None = None
        try:
            usage = limiter.usage(source)
        except (RedisError, OSError) as exc:  # a limiter outage must not take the page down
            problem = f"LIMITER_UNREADABLE ({type(exc).__name__})"
        sources.append(_source_row(source, usage, problem, plans.get(source)))
    return {"sources": sources, "age": moment(now, now)}


UNITS = {"coinglass": "calls", "binance": "request weight"}
LABELS = {"coinglass": "CoinGlass", "binance": "Binance"}


def _source_row(source: str, usage: dict[str, Any] | None, problem: str | None, plan: SourcePlan | None) -> dict:
    row: dict[str, Any] = {
        "source": source,
        "label": LABELS.get(source, source),
        "unit": UNITS.get(source, "calls"),
        "problem": problem,
        "plan": plan,
    }
    if usage is not None:
        used, limit = usage["used_last_60s"], usage["limit_per_minute"]
        until = usage["penalized_until"]
        row |= {
            "used": used,
            "limit": limit,
            "share_pct": round(100 * used / limit) if limit else 0,
            "min_interval_seconds": usage["min_interval_seconds"],
            "backend": usage["backend"],
            "paused_until": datetime.fromtimestamp(until, tz=dt_timezone.utc) if until else None,
        }
    return row


@dataclass(frozen=True)
class Panel:
    template: str  # "page.html#partial-name"
    build: Callable[..., dict[str, Any]]


PANELS: dict[str, Panel] = {
    "cvd": Panel("dashboard/overview.html#cvd-panel", cvd_divergence),
    "magnet": Panel("dashboard/overview.html#magnet-panel", liquidation_magnet),
    "positions": Panel("dashboard/overview.html#positions-panel", open_positions),
    "inputs": Panel("dashboard/health.html#inputs-panel", input_health),
    "failures": Panel("dashboard/health.html#failures-panel", recent_failures),
    "plan": Panel("dashboard/health.html#plan-panel", plan_gaps),
    "limits": Panel("dashboard/health.html#limits-panel", rate_limits),
}
