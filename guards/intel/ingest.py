"""Market-data ingestion services: fetch, store a snapshot, cache it, record data health.

Every fetch goes through the shared limiter (inside the clients); a failure becomes a
data-health record with a reason code and leaves the last good snapshot in place (SPEC §2).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from guards import selectors
from guards.domain import inputs
from guards.domain.numbers import MalformedPayload
from guards.events import DataOutcome
from guards.intel import fetchers, snapshots
from guards.marketdata import errors
from guards.marketdata.limiter import get_limiter
from guards.marketdata.sources import MarketData, get_market
from guards.models import DataHealthEvent, InputAvailability, MarketSnapshot, SourcePlan

logger = logging.getLogger("guards.intel.ingest")
FRESH_SHARE_OF_TTL = 0.8  # a fetch inside the first 80% of the TTL is served from the cache
PLAN_RECHECK = timedelta(hours=24)
PLAN_RETRY_AFTER_FAILURE = timedelta(hours=1)
# A source's definitive answer about an input (an unsupported symbol: not found, bad parameters)
# holds for the input's TTL like a snapshot: the fetch is skipped, reported as NOT_SUPPORTED.
DEFINITIVE_REASONS = frozenset({errors.NotFound.reason_code, errors.BadParameters.reason_code})
NOT_SUPPORTED = "not_supported"


@dataclass
class FetchReport:
    outcomes: list[tuple[str, str, str, str]] = field(default_factory=list)  # symbol, kind, outcome, reason

    def add(self, symbol: str, kind: str, outcome: str, reason: str = "") -> None:
        self.outcomes.append((symbol, kind, outcome, reason))

    def summary(self) -> str:
        return "\n".join(f"{s:<10} {k:<20} {o}{' ' + r if r else ''}" for s, k, o, r in self.outcomes)

    def log_fields(self) -> dict[str, Any]:
        return {"fetches": [{"symbol": s, "kind": k, "outcome": o, "reason": r} for s, k, o, r in self.outcomes]}


def remembered(symbol: str, kind: str, now: datetime) -> tuple[str, str] | None:
    """What this database already knows about the input inside the freshness share of its TTL,
    so the fetch spends no budget (SPEC §2): a fresh snapshot (cached), or a source's definitive
    answer such as an unsupported symbol (not_supported). Judged on this database, never on a
    shared cache: a fresh database always fetches."""
    since = now - timedelta(seconds=selectors.active_parameters().ttl_seconds(kind) * FRESH_SHARE_OF_TTL)
    # Bounded by `now` too: what was stored after `now` (a later reading, e.g. beside `simulate`)
    # is not something this fetch's moment already knows.
    if MarketSnapshot.objects.filter(symbol=symbol, kind=kind, fetched_at__gt=since, fetched_at__lte=now).exists():
        return DataOutcome.CACHED, ""
    latest = (
        DataHealthEvent.objects.filter(kind=kind, symbol=symbol, created_at__gt=since, created_at__lte=now)
        .order_by("-created_at")
        .values_list("reason_code", flat=True)
        .first()
    )
    return (NOT_SUPPORTED, latest) if latest in DEFINITIVE_REASONS else None


def run_fetch(
    *, market, symbol: str, kind: str, now: datetime, fetch: Callable[[], tuple[dict, dict]], force: bool = False
) -> tuple[str, str]:
    """Run one input's fetch as a recorded unit: cached / ok / failed / rate_limited / not_in_plan."""
    if not force and (known := remembered(symbol, kind, now)):
        return known
    if not force and _known_not_in_plan(kind, now):
        return DataOutcome.NOT_IN_PLAN, "NOT_IN_PLAN"
    started = time.monotonic()
    try:
        derived, raw = fetch()
    except SoftTimeLimitExceeded:  # the task ran out of time: say so, then let Celery end it
        _record_health(market, symbol, kind, DataOutcome.FAILED, "TIMEOUT", "task time limit reached", started, now)
        raise
    except Exception as exc:  # failures become data (reason codes), never escape the task
        return _record_failure(market, symbol, kind, _typed(exc, symbol, kind), started, now)
    finally:
        _learn_max_limit(market, now)
    snapshots.store_snapshot(
        symbol=symbol,
        kind=kind,
        source=market.source_of(kind),
        fetched_at=now,
        derived=derived,
        raw=raw,
        ttl_seconds=selectors.active_parameters().ttl_seconds(kind),
    )
    InputAvailability.objects.filter(kind=kind).delete()  # the plan includes it (again)
    if stale := derived.get("stale_reason"):
        _record_health(market, symbol, kind, DataOutcome.STALE, "STALE_DATA", stale, started, now)
        return DataOutcome.STALE, "STALE_DATA"
    _record_health(market, symbol, kind, DataOutcome.OK, "", "", started, now)
    return DataOutcome.OK, ""


def _typed(exc: Exception, symbol: str, kind: str) -> errors.MarketDataError:
    if isinstance(exc, errors.MarketDataError):
        return exc
    if isinstance(exc, MalformedPayload):
        return errors.Malformed(str(exc))
    logger.exception("fetch crashed", extra={"tag": "MARKET-DATA", "symbol": symbol, "kind": kind})
    return errors.InternalError(f"internal error: {type(exc).__name__}")


def _record_failure(market: MarketData, symbol, kind, exc: errors.MarketDataError, started, now) -> tuple[str, str]:
    """Failures are data: a health record, a plan mark or a limiter back-off; the snapshot stays."""
    outcome = _outcome_for(exc)
    if isinstance(exc, errors.PlanInsufficient):
        _mark_not_in_plan(market, kind, now)
    _back_off(market.source_of(kind), exc)
    _record_health(market, symbol, kind, outcome, exc.reason_code, str(exc), started, now)
    logger.warning(
        "fetch failed", extra={"tag": "MARKET-DATA", "symbol": symbol, "kind": kind, "reason": exc.reason_code}
    )
    return outcome, exc.reason_code


def _back_off(source: str, exc: Exception) -> None:
    """A 429 from the source stops every process calling it until Retry-After (or the next
    minute); any other failure, our own limiter's "not now" included, changes nothing."""
    if isinstance(exc, errors.RateLimited) and exc.from_source:
        get_limiter().penalize(source, exc.retry_after_seconds or 60.0)


def _known_not_in_plan(kind: str, now: datetime) -> bool:
    """An input the plan lacks is re-tried only after its recheck time, not every cycle (SPEC §2)."""
    return InputAvailability.objects.filter(kind=kind, recheck_after__gt=now).exists()


def _mark_not_in_plan(market: MarketData, kind: str, now: datetime) -> None:
    plan = SourcePlan.objects.filter(source=market.plan_source).first()
    InputAvailability.objects.update_or_create(
        kind=kind,
        defaults={
            "source": market.source_of(kind),
            "status": "NOT_IN_PLAN",
            "plan_required": inputs.PLAN_REQUIRED.get(kind, ""),
            "current_plan": plan.level if plan else "",
            "detected_at": now,
            "recheck_after": now + PLAN_RECHECK,
        },
    )


def _outcome_for(exc: errors.MarketDataError) -> str:
    if isinstance(exc, errors.RateLimited):
        return DataOutcome.RATE_LIMITED
    if isinstance(exc, errors.PlanInsufficient):
        return DataOutcome.NOT_IN_PLAN
    return DataOutcome.FAILED


def _record_health(market: MarketData, symbol, kind, outcome, reason_code, detail, started, now) -> None:
    DataHealthEvent.objects.create(
        symbol=symbol,
        kind=kind,
        source=market.source_of(kind),
        outcome=outcome,
        reason_code=reason_code,
        detail=detail[:500],
        duration_ms=int((time.monotonic() - started) * 1000),
        created_at=now,
    )


# --- One pass over every input ------------------------------------------------------------------


def fetch_one(
    *, kind: str, symbol: str, now: datetime, force: bool = False, market: MarketData | None = None
) -> tuple[str, str]:
    """Fetch one input for one symbol (or the market-wide one) as a recorded unit."""
    if kind not in fetchers.FETCHERS:
        raise ValueError(f"unknown input {kind!r}; known: {', '.join(fetchers.FETCHERS)}")
    market = market or get_market()
    fetch = fetchers.FETCHERS[kind]
    return run_fetch(
        market=market,
        symbol=symbol,
        kind=kind,
        now=now,
        force=force,
        fetch=lambda: fetch(market=market, symbol=symbol, now=now),
    )


def fetch_intel(*, symbols: list[str], now: datetime, force: bool = False) -> FetchReport:
    """Every input for every symbol once, through the limiter (SPEC §8 `fetch_intel`)."""
    market = get_market()
    report = FetchReport()
    refresh_plan(market=market, now=now)
    for symbol in symbols:
        for kind in (k for k in fetchers.FETCHERS if k not in inputs.MARKET_WIDE):
            report.add(symbol, kind, *fetch_one(kind=kind, symbol=symbol, now=now, force=force, market=market))
    for kind in (k for k in fetchers.FETCHERS if k in inputs.MARKET_WIDE):
        symbol = inputs.MARKET_WIDE_SYMBOL
        report.add(symbol, kind, *fetch_one(kind=kind, symbol=symbol, now=now, force=force, market=market))
    return report


# --- The key's plan ---------------------------------------------------------------------------


def refresh_plan(*, market: MarketData, now: datetime, max_age: timedelta = PLAN_RECHECK) -> SourcePlan | None:
    """Learn the CoinGlass plan (subscription call) once a day; the limiter follows it (SPEC §2)."""
    plan = SourcePlan.objects.filter(source=market.plan_source).first()
    if plan and now - plan.checked_at < max_age:
        return plan
    try:
        subscription = market.subscription()
        level = str(subscription.get("level", "")).upper()[:12]  # the longest plan name, PROFESSIONAL
    except (errors.MarketDataError, AttributeError) as exc:
        # Unknown plan: the default budget stands; ask again in an hour, not on every fetch.
        logger.warning("plan unknown", extra={"tag": "MARKET-DATA", "reason": getattr(exc, "reason_code", "")})
        _back_off(market.plan_source, exc)
        checked_at = now - max_age + PLAN_RETRY_AFTER_FAILURE
        plan, _ = SourcePlan.objects.update_or_create(source=market.plan_source, defaults={"checked_at": checked_at})
        return plan
    if subscription.get("expired") is True:  # every call will be refused until it is renewed
        logger.error("CoinGlass subscription %s has expired", level, extra={"tag": "MARKET-DATA", "plan": level})
        level = f"{level} EXPIRED"
    calls = inputs.PLAN_CALLS_PER_MINUTE.get(level)
    plan, _ = SourcePlan.objects.update_or_create(
        source=market.plan_source, defaults={"level": level, "calls_per_minute": calls, "checked_at": now}
    )
    follow_plan_limit(market.plan_source, calls)
    return plan


def follow_plan_limit(source: str, calls_per_minute: int | None) -> None:
    if calls_per_minute and source == "coinglass":
        get_limiter().set_calls_per_minute(source, calls_per_minute)


def _learn_max_limit(market: MarketData, now: datetime) -> None:
    """API-KEY-MAX-LIMIT on an answer is the key's own per-minute allowance: the limiter and the
    stored plan follow it (once per run of fetches, when it is new to this run). The client
    only keeps a believable value (coinglass._max_limit), so this cannot fail on a bad header."""
    limit = market.reported_max_limit()
    if not limit or market.applied_max_limit == limit:
        return
    market.applied_max_limit = limit
    SourcePlan.objects.update_or_create(
        source="coinglass",
        defaults={"calls_per_minute": limit},
        create_defaults={"calls_per_minute": limit, "checked_at": now - PLAN_RECHECK},  # plan level still unknown
    )
    follow_plan_limit("coinglass", limit)
