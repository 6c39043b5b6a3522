"""Celery entry points: thin, named (beat rows refer to the names), failures become data."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from guards import retention
from guards.events import LogTag
from guards.intel import ingest
from guards.marketdata.sources import get_market

logger = logging.getLogger("guards.tasks")


@shared_task(name="guards.fetch_intel", ignore_result=True, soft_time_limit=240)
def fetch_intel(symbols: list[str] | None = None, force: bool = False) -> dict:
    """Beat entry point; the work (limiter, cache, snapshots, health records) is in ingest."""
    report = ingest.fetch_intel(symbols=symbols or settings.WATCHED_SYMBOLS, now=timezone.now(), force=force)
    logger.info("fetch_intel done", extra={"tag": "MARKET-DATA", **report.log_fields()})
    return report.log_fields()


@shared_task(name="guards.refresh_plan", ignore_result=True, soft_time_limit=120)
def refresh_plan() -> None:
    """Hourly: learns the CoinGlass plan at most daily (hourly after a failed lookup)."""
    ingest.refresh_plan(market=get_market(), now=timezone.now())


@shared_task(name="guards.fetch_input", ignore_result=True, soft_time_limit=240)
def fetch_input(kind: str, symbol: str, force: bool = False) -> dict:
    """One input for one symbol: the staggered beat rows of guards/intel/schedule.py call this."""
    outcome, reason = ingest.fetch_one(kind=kind, symbol=symbol, now=timezone.now(), force=force)
    logger.info(
        "fetch_input done",
        extra={"tag": "MARKET-DATA", "kind": kind, "symbol": symbol, "outcome": outcome, "reason": reason},
    )
    return {"kind": kind, "symbol": symbol, "outcome": outcome, "reason": reason}


@shared_task(name="guards.prune_history", ignore_result=True, soft_time_limit=1800)
def prune_history() -> dict:
    """Daily: history older than RETENTION_DAYS deleted in short batches (guards/retention.py)."""
    report = retention.prune_history(now=timezone.now())
    logger.info("history pruned", extra={"tag": LogTag.RETENTION, **report.log_fields()})
    return report.log_fields()
