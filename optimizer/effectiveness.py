"""Guard effectiveness (SPEC §5.3): per guard over a window, counted by the database, stored
as one report row per guard per run, and shown as a table a trader reads."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum

from guards.domain.rules import CONTRACTS
from guards.domain.types import Decision
from guards.events import EventType
from guards.models import GuardEvent
from optimizer.domain.effectiveness import GuardEffectiveness, ShadowSums
from optimizer.models import EffectivenessReport, EffectivenessRun
from optimizer.text import aligned

DEFAULT_WINDOW_DAYS = 7
PRECISION_PLACES = Decimal("0.000001")


def window_days() -> int:
    return int(getattr(settings, "EFFECTIVENESS_WINDOW_DAYS", DEFAULT_WINDOW_DAYS))


def guard_effectiveness(*, window_start: datetime, window_end: datetime) -> list[GuardEffectiveness]:
    """Every guard's figures over [window_start, window_end), in one aggregate query.

    Evaluations are the signals that reached the guard (a guard skipped after an earlier block did
    not evaluate); money and precision come from the blocked signals' shadow P&L (None: unknown).
    """
    names = [contract.name for contract in CONTRACTS]
    rows = guard_figures_query(names=names, window_start=window_start, window_end=window_end)
    found = {row["guard"]: row for row in rows}
    return [_figures(name, found.get(name)) for name in names]


def guard_figures_query(*, names: list[str], window_start: datetime, window_end: datetime) -> QuerySet:
    """One row per guard with events in the window: GROUP BY guard, conditional COUNT/SUM, the
    blocked signals' shadow P&L read through a join to their evaluation."""
    block = Q(decision=Decision.BLOCK)
    shadow = "evaluation__shadow_pnl"
    return (
        GuardEvent.objects.filter(guard__in=names, created_at__gte=window_start, created_at__lt=window_end)
        .values("guard")
        .order_by()
        .annotate(
            evaluations=Count("id", filter=~Q(decision=Decision.SKIPPED)),
            blocks=Count("id", filter=block),
            resizes=Count("id", filter=Q(decision=Decision.RESIZE)),
            fail_opens=Count("id", filter=Q(event_type=EventType.GUARD_FAIL_OPEN)),
            blocks_with_outcome=Count("id", filter=block & Q(**{f"{shadow}__isnull": False})),
            losing_blocks=Count("id", filter=block & Q(**{f"{shadow}__lt": 0})),
            losses_sum=Sum(shadow, filter=block & Q(**{f"{shadow}__lt": 0})),
            gains_sum=Sum(shadow, filter=block & Q(**{f"{shadow}__gt": 0})),
        )
    )


def _figures(guard: str, row: dict | None) -> GuardEffectiveness:
    if row is None:  # no event in the window: a row of zeros, still reported
        return GuardEffectiveness(guard, 0, 0, 0, 0, ShadowSums(Decimal(0), Decimal(0), 0, 0))
    shadow = ShadowSums(
        losses_avoided=-(row["losses_sum"] or Decimal(0)),
        gains_missed=row["gains_sum"] or Decimal(0),
        blocks_with_outcome=row["blocks_with_outcome"],
        losing_blocks=row["losing_blocks"],
    )
    return GuardEffectiveness(guard, row["evaluations"], row["blocks"], row["resizes"], row["fail_opens"], shadow)


def run_effectiveness(*, now: datetime, days: int | None = None) -> EffectivenessRun:
    """Analyse the last `days` (default EFFECTIVENESS_WINDOW_DAYS) up to `now` and store the run."""
    window_start = now - timedelta(days=days if days is not None else window_days())
    figures = guard_effectiveness(window_start=window_start, window_end=now)
    with transaction.atomic():
        run = EffectivenessRun.objects.create(window_start=window_start, window_end=now, ran_at=now)
        EffectivenessReport.objects.bulk_create(_report(run, position, f) for position, f in enumerate(figures))
    return run


def _report(run: EffectivenessRun, position: int, f: GuardEffectiveness) -> EffectivenessReport:
    return EffectivenessReport(
        run=run,
        guard=f.guard,
        position=position,
        evaluations=f.evaluations,
        blocks=f.blocks,
        resizes=f.resizes,
        fail_opens=f.fail_opens,
        blocks_with_outcome=f.shadow.blocks_with_outcome,
        blocks_without_outcome=f.blocks - f.shadow.blocks_with_outcome,
        losses_avoided=f.losses_avoided,
        gains_missed=f.gains_missed,
        net_value=f.net_value,
        precision=None if f.precision is None else f.precision.quantize(PRECISION_PLACES),
    )


COLUMNS = (
    ("Guard", "guard"),
    ("Checked", "evaluations"),
    ("Blocked", "blocks"),
    ("Resized", "resizes"),
    ("Failed open", "fail_opens"),
    ("Awaiting outcome", "blocks_without_outcome"),
    ("Losses avoided", "losses_avoided"),
    ("Gains missed", "gains_missed"),
    ("Net value", "net_value"),
    ("Precision", "precision"),
)
MONEY_COLUMNS = {"losses_avoided", "gains_missed", "net_value"}


def report_table(run: EffectivenessRun) -> str:
    """The run as aligned text: counts, USD with cents, precision as a percentage."""
    cells = [[title for title, _ in COLUMNS]]
    cells += [[_cell(field, getattr(report, field)) for _, field in COLUMNS] for report in run.reports.all()]
    lines = aligned(cells)
    days = (run.window_end - run.window_start) / timedelta(days=1)
    title = (
        f"Guard effectiveness, {run.window_start:%Y-%m-%d %H:%M} to {run.window_end:%Y-%m-%d %H:%M} UTC ({days:g} days)"
    )
    legend = (
        "Checked: signals that reached the guard. Losses avoided / gains missed: what blocked signals "
        "would have made. Precision: share of blocks with a known outcome that would have lost money."
    )
    return "\n".join([title, "", *lines, "", legend])


def _cell(field: str, value: object) -> str:
    if field == "precision":
        return "n/a" if value is None else f"{Decimal(str(value)) * 100:.1f}%"
    if field in MONEY_COLUMNS:
        amount = Decimal(str(value))
        return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)
