"""Celery entry points: thin, named (beat rows refer to the names), failures become data."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from guards import ingest

logger = logging.getLogger("guards.tasks")


@shared_task(name="guards.fetch_intel", ignore_result=True, soft_time_limit=240)
def fetch_intel(symbols: list[str] | None = None, force: bool = False) -> dict:
    """Beat entry point; the work (limiter, cache, snapshots, health records) is in ingest."""
    report = ingest.fetch_intel(symbols=symbols or settings.WATCHED_SYMBOLS, now=timezone.now(), force=force)
    logger.info("fetch_intel done", extra={"tag": "MARKET-DATA", **report.log_fields()})
    return report.log_fields()
