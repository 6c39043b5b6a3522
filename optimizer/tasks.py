"""Beat entry points of the learning loop; the work is in the services they call."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from optimizer import effectiveness, runs, shadow

logger = logging.getLogger("optimizer")


@shared_task(name="optimizer.run_effectiveness", ignore_result=True, soft_time_limit=600)
def run_effectiveness(days: int | None = None) -> int:
    """Every 4 hours (SPEC §5.3): one report row per guard over the window; returns the run's id."""
    run = effectiveness.run_effectiveness(now=timezone.now(), days=days)
    logger.info("effectiveness run %s stored", run.pk, extra={"run_id": run.pk})
    return run.pk


@shared_task(name="optimizer.compute_shadow_outcomes", ignore_result=True, soft_time_limit=240)
def compute_shadow_outcomes() -> dict[str, int]:
    """Every 5 minutes (SPEC §5.2): blocked signals whose standard hold has passed get their shadow
    outcome; the counts (computed, no_price_history, unsized, pending) are logged and returned."""
    report = shadow.compute_shadow_outcomes(now=timezone.now())
    logger.info("shadow outcomes computed", extra=report.log_fields())
    return report.log_fields()


@shared_task(name="optimizer.run_optimizer", ignore_result=True, soft_time_limit=1800)
def run_optimizer() -> list[str]:
    """Every 12 hours (SPEC §5.4): one stored run per replayable parameter, proposals filed when
    worth one; returns the runs' ids."""
    done = runs.run_optimizer(now=timezone.now())
    return [str(run.run_id) for run in done]
