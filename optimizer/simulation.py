"""`simulate` (SPEC §8, issue 9): a paper bot trading the simulated market in simulated time.

Simulated time runs from `hours` before `until` (default: now) to `until`, so the history ends at
the present and the jobs that follow (effectiveness, optimizer, shadow outcomes, the dashboard)
see it as recent. In that time, in order:
- every input is fetched on the beat's own plan (guards.intel.schedule), through the same
  ingestion services as the beat's tasks, from the simulated market at that moment;
- the paper bot (optimizer.domain.paper_bot) sends its signals to the same evaluation service as
  the API, asks for the minimum hold of each taken position, closes it when the hold and its own
  standard hold have passed, and reports the trade as the API would record it;
- blocked signals get their shadow outcomes on the beat's 5-minute cadence.
Positions whose exit lies after `until` stay open, as a running bot's would.

The run reads and writes the snapshot cache in a private in-memory cache: the shared cache keeps
serving the present to any web process running beside it (docs/decisions.md, "simulate").
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction

from guards.domain.hold import HeldPosition
from guards.domain.types import ClosedTrade, Signal
from guards.evaluations import evaluate_signal
from guards.holds import decide_min_hold
from guards.intel import ingest, schedule
from guards.marketdata import market_model
from guards.marketdata.sources import SimulatedFullMarket
from guards.models import Evaluation
from guards.trades import record_trade
from optimizer.domain.paper_bot import (
    BASE_SIZES_USD,
    SIGNAL_PREFIX,
    DirectionRule,
    PlannedSignal,
    exit_minute,
    momentum_rule,
    planned_signals,
)
from optimizer.shadow import compute_shadow_outcomes, shadow_pnl

SHADOW_EVERY = timedelta(minutes=5)  # the beat's "compute shadow outcomes" row
PLAN_EVERY = timedelta(hours=1)  # the beat's "refresh CoinGlass plan" row
COMMIT_EVERY = timedelta(hours=1)
Progress = Callable[[datetime], None]


class SimulationRefused(Exception):
    """The run cannot start; the message says why, in the operator's words."""


@dataclass
class SimulationReport:
    start: datetime
    end: datetime
    symbols: tuple[str, ...]
    fetches: int = 0
    signals: int = 0
    allowed: int = 0
    blocked: int = 0
    trades: int = 0
    open_positions: int = 0
    shadow_outcomes: int = 0
    fetch_outcomes: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        outcomes = ", ".join(f"{name} {count}" for name, count in sorted(self.fetch_outcomes.items()))
        return [
            f"Simulated {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC for {', '.join(self.symbols)}",
            f"  market data fetches: {self.fetches} ({outcomes})",
            f"  signals: {self.signals} ({self.allowed} allowed, {self.blocked} blocked)",
            f"  trades reported: {self.trades}; positions still open: {self.open_positions}",
            f"  shadow outcomes of blocked signals: {self.shadow_outcomes}",
        ]


@dataclass(frozen=True)
class _OpenPosition:
    signal: PlannedSignal
    size: Decimal
    entry_price: Decimal
    opened_at: datetime


def simulate(
    *,
    hours: int,
    seed: int,
    until: datetime,
    symbols: Sequence[str],
    rule: DirectionRule = momentum_rule,
    base_sizes: tuple[int, ...] = BASE_SIZES_USD,
    progress: Progress | None = None,
) -> SimulationReport:
    """Run the paper bot for `hours` of simulated time ending at `until`; returns what it did.
    `rule` and `base_sizes` replace the bot's own choices (tests build histories with them)."""
    if settings.MARKET_DATA != "simulated":
        raise SimulationRefused(
            "simulate runs on the simulated market only; this installation reads live market data "
            "(set MARKET_DATA=simulated to simulate)."
        )
    end = until.astimezone(dt_timezone.utc).replace(second=0, microsecond=0)
    start = end - timedelta(hours=hours)
    clock = _Clock(start)
    market = SimulatedFullMarket(settings.SIMULATOR_SEED, clock_ms=clock.ms)
    report = SimulationReport(start=start, end=end, symbols=tuple(symbols))
    with _private_snapshot_cache():
        run = _Run(market=market, clock=clock, report=report, seed=seed, rule=rule, base_sizes=base_sizes)
        run.play(_timeline(start, end, symbols), end, progress)
    report.shadow_outcomes += _reconsider_early_verdicts(seed, start, end)
    return report


def _reconsider_early_verdicts(seed: int, start: datetime, end: datetime) -> int:
    """A beat running beside the simulation may have judged a simulated blocked signal before the
    simulation had written the prices of its exit (`no_price_history`): those verdicts are taken
    back and the outcomes computed again now that the prices are stored."""
    early = Evaluation.objects.filter(
        signal_id__startswith=f"{SIGNAL_PREFIX}{seed}-",
        evaluated_at__range=(start, end),
        shadow_status=Evaluation.ShadowStatus.NO_PRICE_HISTORY,
    ).update(shadow_status=Evaluation.ShadowStatus.PENDING, shadow_computed_at=None)
    return compute_shadow_outcomes(now=end).computed if early else 0


class _Clock:
    def __init__(self, now: datetime):
        self.now = now

    def ms(self) -> int:
        return int(self.now.timestamp() * 1000)


@contextmanager
def _private_snapshot_cache() -> Iterator[None]:
    shared = caches["default"]
    caches["default"] = LocMemCache("simulate", {"KEY_FUNCTION": settings.CACHE_KEY_FUNCTION})
    try:
        yield
    finally:
        caches["default"] = shared


# --- The timeline: (time, order, key, action) ---------------------------------------------------

FETCH, PLAN, SIGNAL, CLOSE, SHADOW = 0, 0, 1, 2, 3  # at one moment: data first, then the bot, then the beat


def _timeline(start: datetime, end: datetime, symbols: Sequence[str]) -> Iterator[tuple[datetime, int, tuple]]:
    yield start, PLAN, ("plan",)
    plan = schedule.plan_fetches(list(symbols), schedule.active_ttl_seconds())
    for fetch in plan:
        yield start, FETCH, ("fetch", fetch.kind, fetch.symbol)  # the first fetch, as `bin/run` makes
        every, moment = timedelta(seconds=fetch.every_seconds), start + timedelta(seconds=fetch.offset_seconds)
        while (moment := moment + every) <= end:
            yield moment, FETCH, ("fetch", fetch.kind, fetch.symbol)
    moment = start
    while (moment := moment + PLAN_EVERY) <= end:
        yield moment, PLAN, ("plan",)
    moment = start
    while (moment := moment + SHADOW_EVERY) <= end:
        yield moment, SHADOW, ("shadow",)


class _Run:
    def __init__(self, *, market, clock: _Clock, report: SimulationReport, seed: int, rule: DirectionRule, base_sizes):
        self.market, self.clock, self.report = market, clock, report
        self.seed, self.rule, self.base_sizes = seed, rule, base_sizes
        self.queue: list[tuple[datetime, int, int, tuple]] = []
        self.counter = itertools.count()
        self.open: dict[str, _OpenPosition] = {}

    def push(self, moment: datetime, order: int, action: tuple) -> None:
        heapq.heappush(self.queue, (moment, order, next(self.counter), action))

    def play(self, timeline: Iterator[tuple[datetime, int, tuple]], end: datetime, progress: Progress | None) -> None:
        for moment, order, action in timeline:
            self.push(moment, order, action)
        first, last = _minute_of(self.report.start), _minute_of(end)
        for symbol in self.report.symbols:
            for planned in planned_signals(
                seed=self.seed,
                symbol=symbol,
                first_minute=first,
                last_minute=last,
                price_at=self.price_at,
                rule=self.rule,
                base_sizes=self.base_sizes,
            ):
                self.push(_at_minute(planned.minute), SIGNAL, ("signal", planned))
        while self.queue:
            with transaction.atomic():  # an hour of simulated time per commit: the rows, not the commits, matter
                self._play_until(self.queue[0][0] + COMMIT_EVERY, progress)
        self.report.open_positions = len(self.open)

    def _play_until(self, moment_limit: datetime, progress: Progress | None) -> None:
        while self.queue and self.queue[0][0] < moment_limit:
            moment, _, _, action = heapq.heappop(self.queue)
            self.clock.now = moment
            getattr(self, f"_{action[0]}")(moment, *action[1:])
            if progress:
                progress(moment)

    def price_at(self, symbol: str, minute: int) -> Decimal:
        """What the bot sees at `minute`: the close of the last closed 1-minute bar."""
        return self.market.bar(symbol, minute - 1).close

    def _plan(self, moment: datetime) -> None:
        ingest.refresh_plan(market=self.market, now=moment)

    def _fetch(self, moment: datetime, kind: str, symbol: str) -> None:
        # Forced: on the plan's cadence nothing is ever fresh yet, and the simulator has every input,
        # so the beat's "already known / not in the plan" checks would only cost two queries a fetch.
        outcome, _ = ingest.fetch_one(kind=kind, symbol=symbol, now=moment, market=self.market, force=True)
        self.report.fetches += 1
        self.report.fetch_outcomes[outcome] = self.report.fetch_outcomes.get(outcome, 0) + 1

    def _signal(self, moment: datetime, planned: PlannedSignal) -> None:
        price = self.price_at(planned.symbol, planned.minute)
        signal = Signal(planned.symbol, planned.direction, planned.base_size, planned.strategy, price)
        answer = evaluate_signal(signal=signal, signal_id=planned.signal_id, now=moment)
        self.report.signals += 1
        if not answer["allowed"]:
            self.report.blocked += 1
            return
        self.report.allowed += 1
        size = Decimal(str(answer["final_size"]))
        position = HeldPosition(
            planned.symbol, planned.direction, planned.strategy, price, price, moment, position_id=planned.signal_id
        )
        hold = decide_min_hold(position=position, now=moment)
        closes = exit_minute(opened_minute=planned.minute, min_hold_seconds=int(hold["min_hold_seconds"]))
        self.open[planned.signal_id] = _OpenPosition(planned, size, price, moment)
        if (closed_at := _at_minute(closes)) <= self.report.end:
            self.push(closed_at, CLOSE, ("close", planned.signal_id))

    def _close(self, moment: datetime, position_id: str) -> None:
        held = self.open.pop(position_id)
        exit_price = self.price_at(held.signal.symbol, _minute_of(moment))
        pnl = shadow_pnl(
            direction=held.signal.direction, size=held.size, entry_price=held.entry_price, exit_price=exit_price
        )
        trade = ClosedTrade(
            trade_id=position_id,
            signal_id=held.signal.signal_id,
            symbol=held.signal.symbol,
            direction=held.signal.direction,
            size=held.size,
            entry_price=held.entry_price,
            exit_price=exit_price,
            opened_at=held.opened_at,
            closed_at=moment,
            pnl=pnl,
        )
        record_trade(trade=trade, now=moment)
        self.report.trades += 1

    def _shadow(self, moment: datetime) -> None:
        self.report.shadow_outcomes += compute_shadow_outcomes(now=moment).computed


def _minute_of(moment: datetime) -> int:
    return market_model.minute_index(int(moment.timestamp() * 1000))


def _at_minute(minute: int) -> datetime:
    return datetime.fromtimestamp(market_model.minute_start_ms(minute) / 1000, tz=dt_timezone.utc)
