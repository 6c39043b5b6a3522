"""Market-data ingestion services: fetch, store a snapshot, cache it, record data health.

Every fetch goes through the shared limiter (inside the clients); a failure becomes a
data-health record with a reason code and leaves the last good snapshot in place (SPEC §2).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any, Callable

from django.core.cache import cache
from django.db import IntegrityError, transaction

from guards import selectors
from guards.domain import inputs
from guards.domain.cvd import FlowDetail, TakerOrder, detail_floor_cents, group_taker_orders, to_cents
from guards.domain.params import WHALE_THRESHOLD
from guards.events import DataOutcome
from guards.marketdata import errors
from guards.marketdata.sources import get_market
from guards.models import (
    DataHealthEvent,
    InputAvailability,
    MarketSnapshot,
    PriceBar,
    SourcePlan,
    TradeCursor,
    WhaleFlowBucket,
)

logger = logging.getLogger("guards.ingest")
MINUTE_MS = 60_000
FRESH_SHARE_OF_TTL = 0.8  # a fetch inside the first 80% of the TTL is served from the cache
BUCKET_RETENTION = timedelta(hours=24)
PLAN_RECHECK = timedelta(hours=24)


@dataclass
class FetchReport:
    outcomes: list[tuple[str, str, str, str]] = field(default_factory=list)  # symbol, kind, outcome, reason

    def add(self, symbol: str, kind: str, outcome: str, reason: str = "") -> None:
        self.outcomes.append((symbol, kind, outcome, reason))

    def summary(self) -> str:
        return "\n".join(f"{s:<10} {k:<20} {o}{' ' + r if r else ''}" for s, k, o, r in self.outcomes)

    def log_fields(self) -> dict[str, Any]:
        return {"fetches": [{"symbol": s, "kind": k, "outcome": o, "reason": r} for s, k, o, r in self.outcomes]}


def is_fresh(symbol: str, kind: str, now: datetime) -> bool:
    payload = cache.get(selectors.snapshot_cache_key(symbol, kind))
    if payload is None:
        return False
    age = (now - datetime.fromisoformat(payload["fetched_at"])).total_seconds()
    return age < inputs.TTL_SECONDS[kind] * FRESH_SHARE_OF_TTL


def run_fetch(
    *, market, symbol: str, kind: str, now: datetime, fetch: Callable[[], tuple[dict, dict]], force: bool = False
) -> tuple[str, str]:
    """Run one input's fetch as a recorded unit: cached / ok / failed / rate_limited / not_in_plan."""
    if not force and is_fresh(symbol, kind, now):
        return DataOutcome.CACHED, ""
    if not force and _known_not_in_plan(kind, now):
        return DataOutcome.NOT_IN_PLAN, "NOT_IN_PLAN"
    started = time.monotonic()
    try:
        derived, raw = fetch()
    except Exception as exc:  # failures become data (reason codes), never escape the task
        if not isinstance(exc, errors.MarketDataError):
            logger.exception("fetch crashed", extra={"tag": "MARKET-DATA", "symbol": symbol, "kind": kind})
            exc = errors.MarketDataError(f"internal error: {type(exc).__name__}")
            exc.reason_code = "INTERNAL_ERROR"
        outcome = _outcome_for(exc)
        if isinstance(exc, errors.PlanInsufficient):
            _mark_not_in_plan(market, kind, now)
        _record_health(market, symbol, kind, outcome, exc.reason_code, str(exc), started, now)
        logger.warning("fetch failed", extra={"tag": "MARKET-DATA", "symbol": symbol, "kind": kind,
                                              "reason": exc.reason_code})
        return outcome, exc.reason_code
    store_snapshot(symbol=symbol, kind=kind, source=market.source, fetched_at=now, derived=derived, raw=raw)
    InputAvailability.objects.filter(kind=kind).delete()  # the plan includes it (again)
    _record_health(market, symbol, kind, DataOutcome.OK, "", "", started, now)
    return DataOutcome.OK, ""


def _known_not_in_plan(kind: str, now: datetime) -> bool:
    """An input the plan lacks is re-tried only after its recheck time, not every cycle (SPEC §2)."""
    return InputAvailability.objects.filter(kind=kind, recheck_after__gt=now).exists()


def _mark_not_in_plan(market, kind: str, now: datetime) -> None:
    plan = SourcePlan.objects.filter(source=getattr(market, "plan_source", market.source)).first()
    InputAvailability.objects.update_or_create(
        kind=kind,
        defaults={"source": market.source, "status": "NOT_IN_PLAN", "plan_required": inputs.PLAN_REQUIRED.get(kind, ""),
                  "current_plan": plan.level if plan else "", "detected_at": now, "recheck_after": now + PLAN_RECHECK},
    )


def _outcome_for(exc: errors.MarketDataError) -> str:
    if isinstance(exc, errors.RateLimited):
        return DataOutcome.RATE_LIMITED
    if isinstance(exc, errors.PlanInsufficient):
        return DataOutcome.NOT_IN_PLAN
    return DataOutcome.FAILED


def _record_health(market, symbol, kind, outcome, reason_code, detail, started, now) -> None:
    DataHealthEvent.objects.create(
        symbol=symbol, kind=kind, source=market.source, outcome=outcome, reason_code=reason_code,
        detail=detail[:500], duration_ms=int((time.monotonic() - started) * 1000), created_at=now,
    )


def store_snapshot(*, symbol: str, kind: str, source: str, fetched_at: datetime, derived: dict, raw: dict):
    row = MarketSnapshot.objects.create(
        symbol=symbol, kind=kind, source=source, fetched_at=fetched_at, derived=derived, raw=raw
    )
    # Kept for twice the TTL: past that the guards fail open anyway and read the row instead.
    cache.set(selectors.snapshot_cache_key(symbol, kind), selectors.snapshot_payload(row), 2 * inputs.TTL_SECONDS[kind])
    return row


# --- Whale and retail flow (aggTrades, incremental by fromId) ---------------------------------


def fetch_whale_flow(*, market, symbol: str, now: datetime, max_pages: int) -> tuple[dict, dict]:
    """Read new aggTrades since the cursor, store them as minute buckets, summarise the window."""
    params = selectors.active_parameters()
    threshold_cents = to_cents(params.decimal(WHALE_THRESHOLD))
    window_start = _minute_floor(now) - timedelta(minutes=params.integer("whale_window_minutes"))
    orders, resume_from, old_resume = _read_new_orders(market, symbol, window_start, now, max_pages)
    _store_buckets(symbol, market.source, orders, detail_floor_cents(threshold_cents), resume_from, old_resume, now)
    detail, minutes = _window_detail(symbol, window_start)
    split = detail.split(max(threshold_cents, detail.floor_cents))
    derived = split.as_usd() | {
        "window_start": window_start.isoformat(), "window_minutes": params.integer("whale_window_minutes"),
        "minutes_covered": minutes, "threshold_version": params.version(WHALE_THRESHOLD),
        "divergent": split.divergent,
    }
    return derived, {"detail": detail.to_json(), "window_start": window_start.isoformat()}


def _read_new_orders(market, symbol: str, window_start: datetime, now: datetime, max_pages: int):
    """Page forward from the cursor (or from the window start); hold back the trailing order,
    whose remaining fills may not be published yet, so grouping stays exact across fetches."""
    cursor = TradeCursor.objects.filter(symbol=symbol).first()
    resume = cursor.resume_from if cursor and cursor.updated_at >= window_start else None
    start_ms, now_ms = int(window_start.timestamp() * 1000), int(now.timestamp() * 1000)
    trades, page_from = [], resume
    for _ in range(max_pages):
        if page_from is None:  # no cursor yet: walk the window by time spans (< 1 h each, Binance's rule)
            if start_ms > now_ms:
                break
            end_ms = min(start_ms + 3_600_000 - 1, now_ms)
            page = market.agg_trades(symbol, start_ms=start_ms, end_ms=end_ms)
            start_ms = end_ms + 1
        else:
            page = market.agg_trades(symbol, from_id=page_from)
            if len(page) < 1000:
                trades.extend(page)
                break
        trades.extend(page)
        page_from = page[-1].agg_id + 1 if page else None
    orders = group_taker_orders(trades)
    if not orders:
        return [], resume if resume is not None else None, cursor.resume_from if cursor else None
    return orders[:-1], orders[-1].first_agg_id, cursor.resume_from if cursor else None


def _store_buckets(symbol, source, orders: list[TakerOrder], floor_cents, resume_from, old_resume, now) -> None:
    """Add orders to minute buckets and move the cursor, atomically and only if no other worker
    moved it first (a conditional update, so concurrent fetches never count a trade twice)."""
    if resume_from is None:
        return
    with transaction.atomic():
        if not _advance_cursor(symbol, old_resume, resume_from, now):
            return
        by_minute: dict[int, list[TakerOrder]] = {}
        for order in orders:
            by_minute.setdefault(order.time_ms // MINUTE_MS, []).append(order)
        for minute, minute_orders in by_minute.items():
            _add_to_bucket(symbol, source, minute, FlowDetail.from_orders(minute_orders, floor_cents), len(minute_orders))
        WhaleFlowBucket.objects.filter(symbol=symbol, minute_start__lt=now - BUCKET_RETENTION).delete()


def _advance_cursor(symbol: str, old_resume: int | None, resume_from: int, now: datetime) -> bool:
    if old_resume is None:
        try:
            with transaction.atomic():
                TradeCursor.objects.update_or_create(
                    symbol=symbol, defaults={"resume_from": resume_from, "updated_at": now}
                )
            return True
        except IntegrityError:
            return False
    return bool(
        TradeCursor.objects.filter(symbol=symbol, resume_from=old_resume).update(resume_from=resume_from, updated_at=now)
    )


def _add_to_bucket(symbol: str, source: str, minute: int, part: FlowDetail, count: int) -> None:
    minute_start = datetime.fromtimestamp(minute * 60, tz=dt_timezone.utc)
    bucket = WhaleFlowBucket.objects.filter(symbol=symbol, minute_start=minute_start).first()
    if bucket:
        old = FlowDetail(bucket.buy_total_cents, bucket.sell_total_cents, bucket.floor_cents, tuple(bucket.large_orders))
        part, count = FlowDetail.combine([old, part]), count + bucket.order_count
    WhaleFlowBucket.objects.update_or_create(
        symbol=symbol, minute_start=minute_start,
        defaults={"source": source, "buy_total_cents": part.buy_total_cents, "sell_total_cents": part.sell_total_cents,
                  "floor_cents": part.floor_cents, "large_orders": list(part.large_orders), "order_count": count},
    )


def _window_detail(symbol: str, window_start: datetime) -> tuple[FlowDetail, int]:
    buckets = WhaleFlowBucket.objects.filter(symbol=symbol, minute_start__gte=window_start)
    parts = [FlowDetail(b.buy_total_cents, b.sell_total_cents, b.floor_cents, tuple(b.large_orders)) for b in buckets]
    return FlowDetail.combine(parts), len(parts)


def _minute_floor(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


# --- Minute prices (klines) -------------------------------------------------------------------


def fetch_price_bars(*, market, symbol: str, now: datetime) -> tuple[dict, dict]:
    """Fetch 1-minute bars since the last stored one (at most 1500), upsert them."""
    last = PriceBar.objects.filter(symbol=symbol).order_by("-open_time").first()
    start = last.open_time if last else now - timedelta(hours=6)
    bars = market.klines(symbol, start_ms=int(start.timestamp() * 1000))
    for bar in bars:
        PriceBar.objects.update_or_create(
            symbol=symbol, open_time=datetime.fromtimestamp(bar.open_time_ms / 1000, tz=dt_timezone.utc),
            defaults={"open": bar.open, "high": bar.high, "low": bar.low, "close": bar.close, "source": market.source},
        )
    if not bars:
        raise errors.EmptyData(f"{market.source} klines: no bars since {start.isoformat()}")
    latest = bars[-1]
    derived = {"price": str(latest.close), "bar_open_time": datetime.fromtimestamp(
        latest.open_time_ms / 1000, tz=dt_timezone.utc).isoformat(), "bars_fetched": len(bars)}
    return derived, {"last_bar": [latest.open_time_ms, str(latest.open), str(latest.high), str(latest.low),
                                  str(latest.close)]}


# --- One pass over every input ------------------------------------------------------------------


def _fetchers(market) -> dict[str, Callable[..., tuple[dict, dict]]]:
    from django.conf import settings

    return {
        inputs.WHALE_FLOW: lambda symbol, now: fetch_whale_flow(
            market=market, symbol=symbol, now=now, max_pages=settings.BINANCE_AGGTRADES_MAX_PAGES),
        inputs.PRICE_BARS: lambda symbol, now: fetch_price_bars(market=market, symbol=symbol, now=now),
    }


def fetch_one(*, kind: str, symbol: str, now: datetime, force: bool = False, market=None) -> tuple[str, str]:
    """Fetch one input for one symbol (or the market-wide one) as a recorded unit."""
    market = market or get_market()
    fetch = _fetchers(market)[kind]
    return run_fetch(market=market, symbol=symbol, kind=kind, now=now, fetch=lambda: fetch(symbol, now), force=force)


def fetch_intel(*, symbols: list[str], now: datetime, force: bool = False) -> FetchReport:
    """Every input for every symbol once, through the limiter (SPEC §8 `fetch_intel`)."""
    market = get_market()
    report = FetchReport()
    kinds = list(_fetchers(market))
    for symbol in symbols:
        for kind in (k for k in kinds if k not in inputs.MARKET_WIDE):
            report.add(symbol, kind, *fetch_one(kind=kind, symbol=symbol, now=now, force=force, market=market))
    for kind in (k for k in kinds if k in inputs.MARKET_WIDE):
        symbol = inputs.MARKET_WIDE_SYMBOL
        report.add(symbol, kind, *fetch_one(kind=kind, symbol=symbol, now=now, force=force, market=market))
    return report
