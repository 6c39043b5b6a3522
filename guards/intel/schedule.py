"""Periodic tasks, computed in code and kept as django-celery-beat rows the admin can edit.

Each (input, symbol) pair gets its own beat row so fetches are spread over the cycle instead
of bursting. The plan is computed from the rate limit and the number of watched symbols
(docs/schedule.md): each source's calls per cycle are spaced evenly across the cycle, and the
cycle is stretched beyond the input's TTL only when the watched set would otherwise use more
than HEADROOM of the source's per-minute budget.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from django.conf import settings

from guards.domain import inputs

HEADROOM = 0.5  # the schedule may use at most half of a source's budget; retries get the rest
FETCH_TASK = "guards.fetch_input"
PLANNED = "planned by guards.intel.schedule: every {every} s"  # a row still so described follows the plan
UNWATCHED = "disabled by guards.intel.schedule: symbol no longer in WATCHED_SYMBOLS"

# input kind -> (source, budget units per fetch). aggTrades pages are weight 20 each and a
# fetch reads a few pages; klines (<=1500 rows) weigh 10.
FETCH_COST = {
    inputs.WHALE_FLOW: ("binance", 60),
    inputs.PRICE_BARS: ("binance", 10),
    inputs.LIQUIDATION: ("coinglass", 1),
    inputs.TAKER_FLOW: ("coinglass", 1),
    inputs.MAX_PAIN: ("coinglass", 1),
    inputs.FEAR_GREED: ("coinglass", 1),
}


@dataclass(frozen=True)
class PlannedFetch:
    kind: str
    symbol: str
    every_seconds: int
    offset_seconds: float

    @property
    def name(self) -> str:
        return f"fetch {self.kind} {self.symbol}"


def budget_per_minute(source: str) -> float:
    if source == "coinglass":
        spacing = settings.COINGLASS_MIN_INTERVAL_SECONDS
        return min(settings.COINGLASS_CALLS_PER_MINUTE, 60 / spacing if spacing > 0 else float("inf"))
    return settings.BINANCE_WEIGHT_PER_MINUTE


def plan_fetches(symbols: list[str], ttl_seconds: Mapping[str, int] = inputs.TTL_SECONDS) -> list[PlannedFetch]:
    """Every (input, symbol) fetch with its interval and start offset, per source: each input
    refreshed once per TTL (`ttl_seconds`, the active TTL parameters), stretched to fit the budget."""
    plan: list[PlannedFetch] = []
    for source in ("coinglass", "binance"):
        pairs = [
            (kind, inputs.MARKET_WIDE_SYMBOL if kind in inputs.MARKET_WIDE else symbol)
            for kind, (src, _) in FETCH_COST.items()
            if src == source
            for symbol in (symbols[:1] if kind in inputs.MARKET_WIDE else symbols)
        ]
        plan += _spread(source, pairs, ttl_seconds)
    return plan


def _spread(source: str, pairs: list[tuple[str, str]], ttl_seconds: Mapping[str, int]) -> list[PlannedFetch]:
    if not pairs:
        return []
    cycle = max(ttl_seconds[kind] for kind, _ in pairs)
    cost = sum(FETCH_COST[kind][1] * cycle / ttl_seconds[kind] for kind, _ in pairs)
    allowed_per_cycle = budget_per_minute(source) * HEADROOM * cycle / 60
    stretch = max(1.0, cost / allowed_per_cycle)
    step = cycle / len(pairs)
    return [
        PlannedFetch(kind, symbol, math.ceil(ttl_seconds[kind] * stretch), round(i * step, 1))
        for i, (kind, symbol) in enumerate(pairs)
    ]


def active_ttl_seconds() -> dict[str, int]:
    from guards.selectors import active_parameters

    params = active_parameters()
    return {kind: params.ttl_seconds(kind) for kind in inputs.TTL_SECONDS}


# Rows that do not depend on the watched symbols: name, task, every (seconds), start offset (seconds).
FIXED_ROWS = (
    ("refresh CoinGlass plan", "guards.refresh_plan", 3600, 30.0),  # asks at most daily (hourly after a failure)
    ("guard effectiveness", "optimizer.run_effectiveness", 4 * 3600, 120.0),  # SPEC §5.3
    ("compute shadow outcomes", "optimizer.compute_shadow_outcomes", 300, 45.0),  # SPEC §5.2
    ("optimizer run", "optimizer.run_optimizer", 12 * 3600, 600.0),  # SPEC §5.4
    ("prune history", "guards.prune_history", 24 * 3600, 900.0),  # RETENTION_DAYS, docs/operations.md
)


def desired_tasks() -> list[dict]:
    """Every beat row this project wants: name, task, interval seconds, start offset, kwargs."""
    rows = [
        {
            "name": p.name,
            "task": FETCH_TASK,
            "every_seconds": p.every_seconds,
            "offset_seconds": p.offset_seconds,
            "kwargs": {"kind": p.kind, "symbol": p.symbol},
        }
        for p in plan_fetches(settings.WATCHED_SYMBOLS, active_ttl_seconds())
    ]
    fixed = [
        {"name": name, "task": task, "every_seconds": every, "offset_seconds": offset, "kwargs": {}}
        for name, task, every, offset in FIXED_ROWS
    ]
    return [*rows, *fixed]


def install_schedule(*, replace: bool = False) -> list[str]:
    """Bring the beat rows in line with the plan for the watched symbols; returns what changed.

    Missing rows are created. A row whose interval is still the one we planned follows a new
    plan (more symbols, a new budget); a row an operator edited is kept, unless `replace`.
    Rows of symbols no longer watched are disabled, and enabled again if the symbol returns.
    """
    from django_celery_beat.models import PeriodicTask

    # Beat runs an interval task every `every` seconds after its last run, so a future start
    # time per row fixes the stagger for good: row i first runs at anchor + offset_i.
    anchor = (datetime.now(timezone.utc) + timedelta(minutes=1)).replace(second=0, microsecond=0)
    wanted = {spec["name"]: spec for spec in desired_tasks()}
    changed = [name for name, spec in wanted.items() if _install_row(spec, anchor, replace)]
    for row in PeriodicTask.objects.filter(task=FETCH_TASK, enabled=True).exclude(name__in=wanted):
        row.enabled, row.description = False, UNWATCHED
        row.save(update_fields=["enabled", "description"])
        changed.append(row.name)
    return changed


def _install_row(spec: dict, anchor: datetime, replace: bool) -> bool:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    interval, _ = IntervalSchedule.objects.get_or_create(every=spec["every_seconds"], period=IntervalSchedule.SECONDS)
    values = {
        "task": spec["task"],
        "interval": interval,
        "kwargs": json.dumps(spec["kwargs"]),
        "start_time": anchor + timedelta(seconds=spec["offset_seconds"]),
        "description": PLANNED.format(every=spec["every_seconds"]),
        "enabled": True,
    }
    row = PeriodicTask.objects.filter(name=spec["name"]).select_related("interval").first()
    if row is None:
        PeriodicTask.objects.create(name=spec["name"], **values)
        return True
    ours = row.description == PLANNED.format(every=row.interval.every if row.interval else None)
    if replace or (row.description == UNWATCHED) or (ours and row.interval_id != interval.id):
        for field, value in values.items():
            setattr(row, field, value)
        row.save()
        return True
    return False


def install_schedule_after_migrate(sender, **kwargs) -> None:
    install_schedule()
