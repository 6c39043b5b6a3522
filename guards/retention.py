"""Pruning the history older than RETENTION_DAYS (docs/operations.md, "Data lifecycle").

At one decision a second the event table grows by ~95 million rows a year. Rows older than the
cut-off are deleted in short transactions of at most PRUNE_BATCH_SIZE rows, each a DELETE over one
primary-key range, children before parents, so the evaluate endpoint never waits on a long lock.

Kept forever: parameter versions and changes (the audit trail), trades, optimizer and
effectiveness runs, API tokens. Kept whatever their age: the newest snapshot of each
(symbol, input), which the guards fall back to, and any snapshot a kept evaluation points to.
A trade whose evaluation is pruned keeps its `signal_id` and loses the link (SET_NULL, as the
model declares).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from guards.domain.retention import cutoff
from guards.models import DataHealthEvent, Evaluation, GuardEvent, MarketSnapshot, PriceBar, Trade, WhaleFlowBucket

# What the report calls each table, in the order they are pruned (children first).
GUARD_EVENTS = "guard events"
EVALUATIONS = "evaluations"
TRADES_UNLINKED = "trades unlinked (kept)"
SNAPSHOTS = "market snapshots"
DATA_HEALTH = "data-health records"
WHALE_FLOW = "whale-flow minutes"
PRICE_BARS = "price bars"
TABLES = (GUARD_EVENTS, EVALUATIONS, TRADES_UNLINKED, SNAPSHOTS, DATA_HEALTH, WHALE_FLOW, PRICE_BARS)


def retention_days() -> int:
    return settings.RETENTION_DAYS


@dataclass
class PruneReport:
    cutoff: datetime
    dry_run: bool
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    batches: int = 0

    def log_fields(self) -> dict:
        return {"cutoff": self.cutoff.isoformat(), "dry_run": self.dry_run, "batches": self.batches, **self.rows}


def prune_history(*, now: datetime, batch: int | None = None, dry_run: bool = False) -> PruneReport:
    """Delete (or, dry, count) every prunable row older than RETENTION_DAYS before `now`."""
    report = PruneReport(cutoff=cutoff(now, retention_days()), dry_run=dry_run)
    size = batch or settings.PRUNE_BATCH_SIZE
    before = report.cutoff
    _prune(report, GUARD_EVENTS, GuardEvent.objects.filter(created_at__lt=before), size)
    _prune(report, EVALUATIONS, Evaluation.objects.filter(evaluated_at__lt=before), size, _evaluation_children)
    _prune_snapshots(report, size)
    _prune(report, DATA_HEALTH, DataHealthEvent.objects.filter(created_at__lt=before), size)
    _prune(report, WHALE_FLOW, WhaleFlowBucket.objects.filter(minute_start__lt=before), size)
    _prune(report, PRICE_BARS, PriceBar.objects.filter(open_time__lt=before), size)
    return report


def _ranges(rows: QuerySet, size: int) -> Iterator[tuple[int, int, int]]:
    """Primary-key ranges holding at most `size` of `rows` each, ascending (keyset paging), with
    how many of `rows` each holds."""
    last = 0
    while ids := list(rows.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size]):
        yield ids[0], ids[-1], len(ids)
        last = ids[-1]


def _prune(report: PruneReport, table: str, rows: QuerySet, size: int, children: Callable | None = None) -> None:
    for lo, hi, count in _ranges(rows, size):
        batch = rows.filter(pk__range=(lo, hi))
        report.batches += 1
        if report.dry_run:
            report.rows[table] += count
            if children:
                children(report, batch, dry_run=True)
            continue
        with transaction.atomic():
            if children:
                children(report, batch, dry_run=False)
            # A raw DELETE: no row is loaded, no signal sent (children are handled above, and a
            # pruned snapshot is never the newest, so no cached reading names it).
            report.rows[table] += batch._raw_delete(batch.db)


def _evaluation_children(report: PruneReport, evaluations: QuerySet, *, dry_run: bool) -> None:
    """An evaluation's guard events go with it; its trades stay, unlinked."""
    events = GuardEvent.objects.filter(evaluation__in=evaluations.values("pk"))
    trades = Trade.objects.filter(evaluation__in=evaluations.values("pk"))
    if dry_run:  # the events older than the cut-off were counted on their own already
        report.rows[GUARD_EVENTS] += events.filter(created_at__gte=report.cutoff).count()
        report.rows[TRADES_UNLINKED] += trades.count()
        return
    report.rows[GUARD_EVENTS] += events._raw_delete(events.db)
    report.rows[TRADES_UNLINKED] += trades.update(evaluation=None)


def _prune_snapshots(report: PruneReport, size: int) -> None:
    """Old snapshots, except the newest of each (symbol, input) and any a kept evaluation uses."""
    old = MarketSnapshot.objects.filter(fetched_at__lt=report.cutoff)
    pairs = old.values_list("symbol", "kind").distinct()
    newest = {pk for pk in (_newest_id(symbol, kind) for symbol, kind in pairs) if pk is not None}
    for lo, hi, _ in _ranges(old, size):
        batch = old.filter(pk__range=(lo, hi))
        keep = set(
            Evaluation.objects.filter(
                whale_flow_snapshot__gte=lo, whale_flow_snapshot__lte=hi, evaluated_at__gte=report.cutoff
            )
            .values_list("whale_flow_snapshot_id", flat=True)
            .distinct()
        )
        keep |= {pk for pk in newest if lo <= pk <= hi}
        doomed = batch.exclude(pk__in=keep)
        report.batches += 1
        if report.dry_run:
            report.rows[SNAPSHOTS] += doomed.count()
            continue
        with transaction.atomic():
            report.rows[SNAPSHOTS] += doomed._raw_delete(doomed.db)


def _newest_id(symbol: str, kind: str) -> int | None:
    row = MarketSnapshot.objects.filter(symbol=symbol, kind=kind).order_by("-fetched_at", "-id").values("pk").first()
    return row["pk"] if row else None
