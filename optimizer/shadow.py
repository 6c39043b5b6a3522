"""Shadow outcomes (SPEC §5.2): what a blocked signal would have made had it been taken.

Entry at the price at evaluation (the bot's `price`, else the close of the stored 1-minute bar of
that minute), exit at the close of the bar one standard hold later, at the size the chain would
have given had no guard blocked, less fees and slippage on both notionals. A signal whose price
history is missing gets no invented outcome: it is marked `no_price_history` and counted.
Choices and formulas: docs/decisions.md, "Shadow outcomes".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q

from guards.domain.hold import TRUE_TREND
from guards.domain.params import DEFAULTS, validate_value
from guards.domain.types import Direction
from guards.models import Evaluation, MarketSnapshot, ParameterVersion, PriceBar
from optimizer.decisions import recorded_decision
from optimizer.domain.fast_replay import unblocked_multiplier

TRUE_TREND_HOLD, DEFAULT_HOLD = "true_trend_hold_minutes", "default_min_hold_minutes"
ONE_MINUTE = timedelta(minutes=1)
MONEY_STEP = Decimal("0.00000001")  # guards.models.MONEY: 8 decimals
BASIS_POINT = Decimal("0.0001")
Status = Evaluation.ShadowStatus
HoldHistory = Mapping[str, list[tuple[datetime | None, int]]]  # per parameter: (active from, minutes)


@dataclass
class ShadowReport:
    """What one run did: outcomes written, signals marked, signals still waiting for prices."""

    computed: int = 0
    no_price_history: int = 0
    unsized: int = 0
    pending: int = 0  # due, but their price history has not arrived yet (within SHADOW_PRICE_WAIT_MINUTES)

    def log_fields(self) -> dict[str, int]:
        return asdict(self)


def shadow_pnl(*, direction: Direction, size: Decimal, entry_price: Decimal, exit_price: Decimal) -> Decimal:
    """USD P&L of `size` USD notional opened at `entry_price` and closed at `exit_price`: LONG
    gains when the price rises, SHORT when it falls. Fees and slippage (SHADOW_FEE_BPS,
    SHADOW_SLIPPAGE_BPS, per side) are charged on the entry notional (`size`) and the exit notional
    (`size × exit / entry`). Rounded half-even to the stored 8 decimals."""
    cost_bps = Decimal(str(settings.SHADOW_FEE_BPS)) + Decimal(str(settings.SHADOW_SLIPPAGE_BPS))
    exit_notional = size * exit_price / entry_price
    gross = exit_notional - size if direction is Direction.LONG else size - exit_notional
    costs = (size + exit_notional) * cost_bps * BASIS_POINT
    return (gross - costs).quantize(MONEY_STEP, ROUND_HALF_EVEN)


def standard_hold_minutes(*, strategy: str, at: datetime, history: HoldHistory) -> int:
    """The standard hold of a signal's strategy as it stood at `at`: `true_trend_hold_minutes` for
    TRUE_TREND, else `default_min_hold_minutes`, and the TRUE_TREND hold when that is 0 (a zero
    hold has no outcome beyond its fees)."""
    true_trend = _value_at(history, TRUE_TREND_HOLD, at)
    if strategy == TRUE_TREND:
        return true_trend
    return _value_at(history, DEFAULT_HOLD, at) or true_trend


def _value_at(history: HoldHistory, name: str, at: datetime) -> int:
    """The version active at `at` (seeds count from the start); the SPEC default when none was
    or its value is unusable."""
    active = [minutes for since, minutes in history.get(name, []) if since is None or since <= at]
    return active[-1] if active else int(DEFAULTS[name])


def hold_history() -> dict[str, list[tuple[datetime | None, int]]]:
    """Every version of the two hold parameters that was ever active, oldest first, with the time
    it became active (None for a seed: active from the start)."""
    rows = ParameterVersion.objects.filter(
        parameter__in=(TRUE_TREND_HOLD, DEFAULT_HOLD),
        status__in=(ParameterVersion.Status.ACTIVE, ParameterVersion.Status.SUPERSEDED),
    ).values_list("parameter", "approved_at", "version", "value")
    history: dict[str, list[tuple[datetime | None, int]]] = {TRUE_TREND_HOLD: [], DEFAULT_HOLD: []}
    for name, since, _, value in sorted(rows, key=lambda r: (r[1] is not None, r[1] or datetime.min, r[2])):
        history[name].append((since, _usable_minutes(name, value)))
    return history


def _usable_minutes(name: str, value: Any) -> int:
    try:
        return int(validate_value(name, value))
    except (ValueError, ArithmeticError, TypeError):
        return int(DEFAULTS[name])


def compute_shadow_outcomes(*, now: datetime, batch_size: int | None = None) -> ShadowReport:
    """Write the shadow outcome of every blocked signal whose standard hold has passed by `now`.

    Idempotent and safe with several workers: rows are read in id order, batch by batch, and a
    row is written only while it is still pending (a conditional update), so a row another worker
    wrote first is neither written again nor counted."""
    history, report, after_id = hold_history(), ShadowReport(), 0
    due = Evaluation.objects.filter(
        allowed=False, shadow_status=Status.PENDING, evaluated_at__lte=now - timedelta(minutes=_shortest(history))
    ).order_by("id")
    while batch := list(due.filter(id__gt=after_id)[: batch_size or settings.SHADOW_BATCH_SIZE]):
        _shadow_batch(batch, history=history, now=now, report=report)
        after_id = batch[-1].id
    return report


def _shortest(history: HoldHistory) -> int:
    """The shortest standard hold any signal can have (standard_hold_minutes), to select due rows."""
    true_trend = [minutes for _, minutes in history[TRUE_TREND_HOLD]] + [int(DEFAULTS[TRUE_TREND_HOLD])]
    return min(true_trend + [minutes for _, minutes in history[DEFAULT_HOLD] if minutes])


def _shadow_batch(batch: list[Evaluation], *, history: HoldHistory, now: datetime, report: ShadowReport) -> None:
    exits = {e.id: e.evaluated_at + _hold(e, history) for e in batch}
    batch = [e for e in batch if exits[e.id] <= now]
    snapshots = MarketSnapshot.objects.filter(id__in={e.whale_flow_snapshot_id for e in batch})
    details: dict[int | None, Any] = dict(snapshots.values_list("id", "raw"))
    prices = PriceHistory.load((e.symbol, t) for e in batch for t in (e.evaluated_at, exits[e.id]))
    wait = timedelta(minutes=settings.SHADOW_PRICE_WAIT_MINUTES)
    with transaction.atomic():
        for evaluation in batch:
            raw = details.get(evaluation.whale_flow_snapshot_id)
            exit_at = exits[evaluation.id]
            fields = _outcome(evaluation, raw, exit_at, prices, waited=now >= exit_at + wait)
            if fields is None:
                report.pending += 1
            elif Evaluation.objects.filter(id=evaluation.id, shadow_status=Status.PENDING).update(
                **fields, shadow_computed_at=now
            ):  # the report's counters are named as the statuses
                setattr(report, fields["shadow_status"], getattr(report, fields["shadow_status"]) + 1)


def _hold(evaluation: Evaluation, history: HoldHistory) -> timedelta:
    at = evaluation.evaluated_at
    return timedelta(minutes=standard_hold_minutes(strategy=evaluation.strategy, at=at, history=history))


def _outcome(
    evaluation: Evaluation, snapshot_raw: Any, exit_at: datetime, prices: PriceHistory, *, waited: bool
) -> dict[str, Any] | None:
    """The fields to write, or None while the price history may still arrive."""
    size = shadow_size(evaluation, snapshot_raw)
    if size is None:
        return {"shadow_status": Status.UNSIZED}
    if not prices.reached(evaluation.symbol, exit_at):
        return {"shadow_status": Status.NO_PRICE_HISTORY} if waited else None
    entry = evaluation.price or prices.close_at(evaluation.symbol, evaluation.evaluated_at)
    exit_ = prices.close_at(evaluation.symbol, exit_at)
    if not entry or not exit_ or entry <= 0 or exit_ <= 0:
        return {"shadow_status": Status.NO_PRICE_HISTORY}
    direction = Direction(evaluation.direction)
    return {
        "shadow_status": Status.COMPUTED,
        "shadow_size": size,
        "shadow_entry_price": entry,
        "shadow_exit_price": exit_,
        "shadow_pnl": shadow_pnl(direction=direction, size=size, entry_price=entry, exit_price=exit_),
    }


def shadow_size(evaluation: Evaluation, snapshot_raw: Any) -> Decimal | None:
    """USD notional the chain would have taken had no guard blocked: base size × every resize at
    the recorded values (fast_replay.unblocked_multiplier), to 8 decimals; None when unknown."""
    decision = recorded_decision(evaluation, snapshot_raw=snapshot_raw)
    multiplier = None if decision.damage else unblocked_multiplier(decision)
    return None if multiplier is None else (decision.base_size * multiplier).quantize(MONEY_STEP, ROUND_HALF_EVEN)


@dataclass(frozen=True)
class PriceHistory:
    """The stored 1-minute closes a batch needs, and each symbol's newest stored bar."""

    closes: Mapping[tuple[str, datetime], Decimal]
    newest: Mapping[str, datetime]

    @classmethod
    def load(cls, wanted: Iterable[tuple[str, datetime]]) -> PriceHistory:
        minutes: dict[str, set[datetime]] = {}
        for symbol, at in wanted:
            minutes.setdefault(symbol, set()).update({_minute(at), _minute(at) - ONE_MINUTE})
        if not minutes:
            return cls({}, {})
        which = Q()
        for symbol, opens in minutes.items():
            which |= Q(symbol=symbol, open_time__in=sorted(opens))
        bars = PriceBar.objects.filter(which).values_list("symbol", "open_time", "close")
        newest = PriceBar.objects.filter(symbol__in=minutes).values("symbol").annotate(newest=Max("open_time"))
        return cls({(s, t): close for s, t, close in bars}, {r["symbol"]: r["newest"] for r in newest})

    def reached(self, symbol: str, at: datetime) -> bool:
        """A bar after `at`'s minute is stored: the bar of that minute (if any) is final, since every
        fetch rewrites the newest stored bar, and a missing one will not come."""
        newest = self.newest.get(symbol)
        return newest is not None and newest > _minute(at)

    def close_at(self, symbol: str, at: datetime) -> Decimal | None:
        """The close of the bar of `at`'s minute, else of the minute before; None when both are missing."""
        minute = _minute(at)
        return self.closes.get((symbol, minute)) or self.closes.get((symbol, minute - ONE_MINUTE))


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)
