"""Reads behind the audit trail (SPEC §6): guard events, one decision opened, parameter versions,
optimizer runs and effectiveness reports. Every list is a keyset page on (time, id), newest
first: a page is fetched as `limit + 1` rows (the extra one says whether there is a next page),
never counted, so a page costs the same on a million events as on ten (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet, prefetch_related_objects

from guards.domain.pairs import normalise_pair
from guards.domain.params import SPECS
from guards.domain.rules import CONTRACTS
from guards.domain.types import Decision, HoldReason
from guards.events import EventType
from guards.models import Evaluation, GuardEvent, ParameterVersion
from optimizer.models import EffectivenessRun, OptimizerRun

EVENTS_PAGE = 50
VERSIONS_PAGE = 20
RUNS_PAGE = 5
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_ID = 2**63 - 1  # the largest primary key a BigAutoField holds
# What a guard event's `guard` and `decision` may be: the guards on signals, the magnet hold.
GUARDS = (*(c.name for c in CONTRACTS), EventType.LIQ_MAGNET.value)
DECISIONS = (*(d.value for d in Decision), *(r.value for r in HoldReason))


class BadFilter(ValueError):
    """A filter or page value that cannot be used, and the field it came in."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: strictly older than (at, id). Written `<microseconds since 1970>.<id>`."""

    at: datetime
    id: int

    def __str__(self) -> str:
        return f"{(self.at - EPOCH) // timedelta(microseconds=1)}.{self.id}"

    @classmethod
    def parse(cls, field: str, raw: str | None) -> Cursor | None:
        if not raw:
            return None
        micros, _, pk = raw.partition(".")
        try:
            if not (micros.isascii() and micros.isdigit() and pk.isascii() and pk.isdigit()) or len(pk) > 18:
                raise ValueError
            return cls(EPOCH + timedelta(microseconds=int(micros)), int(pk))
        except (ValueError, OverflowError):
            raise BadFilter(field, "is not a page of this list (follow the Older link)") from None


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next: Cursor | None  # the cursor of the page after this one, None on the last page


def _page(rows: Sequence[Any], limit: int, time_field: str) -> Page:
    shown = list(rows[:limit])
    more = len(rows) > limit and shown
    return Page(shown, Cursor(getattr(shown[-1], time_field), shown[-1].pk) if more else None)


def _older(time_field: str, cursor: Cursor | None) -> Q:
    """Rows strictly before the cursor in (time, id) order, written so the time is an index bound."""
    if cursor is None:
        return Q()
    at = cursor.at
    return Q(**{f"{time_field}__lte": at}) & (Q(**{f"{time_field}__lt": at}) | Q(id__lt=cursor.id))


def keyset(queryset: QuerySet, time_field: str, cursor: Cursor | None, limit: int) -> Page:
    rows = list(queryset.filter(_older(time_field, cursor)).order_by(f"-{time_field}", "-id")[: limit + 1])
    return _page(rows, limit, time_field)


# --- Guard events -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilter:
    guard: str = ""
    symbol: str = ""
    decision: str = ""

    @classmethod
    def parse(cls, query: Any) -> EventFilter:
        """From the request's GET; BadFilter naming the field when a value cannot be one."""
        guard, decision = query.get("guard", "").strip(), query.get("decision", "").strip()
        if guard and guard not in GUARDS:
            raise BadFilter("guard", f"{guard!r} is not a guard; one of {', '.join(GUARDS)}")
        if decision and decision not in DECISIONS:
            raise BadFilter("decision", f"{decision!r} is not a decision; one of {', '.join(DECISIONS)}")
        symbol = query.get("symbol", "").strip()
        if symbol:
            try:
                symbol = normalise_pair(symbol)
            except ValueError as exc:
                raise BadFilter("symbol", str(exc)) from None
        return cls(guard, symbol, decision)

    def matches(self, guard: str, symbol: str, decision: str) -> bool:
        wanted = ((self.guard, guard), (self.symbol, symbol), (self.decision, decision))
        return all(not want or want == have for want, have in wanted)


LIGHT_EVENT = ("inputs", "parameters")  # a list row needs neither


def guard_events(filters: EventFilter, cursor: Cursor | None, limit: int = EVENTS_PAGE) -> Page:
    """A page of guard events, newest first.

    The one index that filters is (guard, symbol, decision, -created_at): it gives a page in
    order only when all three are fixed. So a partial filter is answered as the newest `limit + 1`
    of each matching (guard, symbol, decision) combination, merged: one UNION ALL of small index
    scans. The combinations present are found by a loose index scan (one probe per combination).
    """
    if not (filters.guard or filters.symbol or filters.decision):
        return keyset(GuardEvent.objects.defer(*LIGHT_EVENT), "created_at", cursor, limit)
    if filters.guard and filters.symbol and filters.decision:
        combos = [(filters.guard, filters.symbol, filters.decision)]
    else:
        combos = [c for c in event_combinations() if filters.matches(*c)]
    ids = _newest_ids(combos, cursor, limit + 1)
    found = GuardEvent.objects.defer(*LIGHT_EVENT).in_bulk(ids)
    return _page([found[i] for i in ids if i in found], limit, "created_at")


COMBINATIONS_SQL = """
WITH RECURSIVE combo(id, guard, symbol, decision) AS (
    SELECT id, guard, symbol, decision FROM (
        SELECT id, guard, symbol, decision FROM guards_guardevent ORDER BY guard, symbol, decision LIMIT 1
    ) AS first_row
    UNION ALL
    SELECT e.id, e.guard, e.symbol, e.decision
    FROM combo JOIN guards_guardevent e ON e.id = (
        SELECT n.id FROM guards_guardevent n
        WHERE (n.guard, n.symbol, n.decision) > (combo.guard, combo.symbol, combo.decision)
        ORDER BY n.guard, n.symbol, n.decision LIMIT 1
    )
)
SELECT guard, symbol, decision FROM combo
"""


def event_combinations() -> list[tuple[str, str, str]]:
    """Every (guard, symbol, decision) stored, by skipping along the composite index."""
    with connection.cursor() as cursor:
        cursor.execute(COMBINATIONS_SQL)
        return [tuple(row) for row in cursor.fetchall()]  # type: ignore[misc]


def _newest_ids(combos: Sequence[tuple[str, str, str]], cursor: Cursor | None, limit: int) -> list[int]:
    if not combos:
        return []
    parts: list[str] = []
    params: list[Any] = []
    for n, (guard, symbol, decision) in enumerate(combos):
        newest = (
            GuardEvent.objects.filter(_older("created_at", cursor), guard=guard, symbol=symbol, decision=decision)
            .order_by("-created_at", "-id")
            .values_list("id", "created_at")[:limit]
        )
        sql, part_params = newest.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) AS part{n}")
        params += part_params
    merged = f"SELECT id FROM ({' UNION ALL '.join(parts)}) AS merged ORDER BY created_at DESC, id DESC LIMIT %s"
    with connection.cursor() as db:
        db.execute(merged, [*params, limit])
        return [row[0] for row in db.fetchall()]


# --- One decision opened ------------------------------------------------------------------------


@dataclass(frozen=True)
class UsedVersion:
    parameter: str
    label: str
    value: Any
    version: int
    problem: str
    stored: ParameterVersion | None  # the version row (proposer, approver, reason), when it exists


def decision_detail(evaluation_id: int) -> tuple[Evaluation, list[GuardEvent], list[UsedVersion]] | None:
    """An evaluation with its guard events (inputs, parameters) and the parameter versions they used."""
    if evaluation_id > MAX_ID:  # no such row, and the database would refuse the number
        return None
    evaluation = Evaluation.objects.filter(pk=evaluation_id).first()
    if evaluation is None:
        return None
    events = list(evaluation.events.order_by("position", "id"))
    stamps: dict[tuple[str, int], dict[str, Any]] = {}
    for event in events:
        for name, stamp in (event.parameters or {}).items():
            if isinstance(stamp, dict) and isinstance(stamp.get("version"), int):
                stamps.setdefault((name, stamp["version"]), stamp)
    wanted = Q(pk__in=[])
    for name, version in stamps:
        wanted |= Q(parameter=name, version=version)
    rows = ParameterVersion.objects.filter(wanted).select_related("proposed_by", "approved_by") if stamps else []
    stored = {(v.parameter, v.version): v for v in rows}
    used = [
        UsedVersion(
            parameter=name,
            label=SPECS[name].label if name in SPECS else name,
            value=stamp.get("value"),
            version=version,
            problem=str(stamp.get("problem") or ""),
            stored=stored.get((name, version)),
        )
        for (name, version), stamp in sorted(stamps.items())
    ]
    return evaluation, events, used


# --- Parameter versions, optimizer runs, effectiveness reports -----------------------------------


def parse_parameter(query: Any, field: str = "parameter", among: Sequence[str] | None = None) -> str:
    name = query.get(field, "").strip()
    allowed = SPECS if among is None else among
    if name and name not in allowed:
        raise BadFilter(field, f"{name!r} is not a parameter; one of {', '.join(allowed)}")
    return name


def parameter_versions(parameter: str, cursor: Cursor | None, limit: int = VERSIONS_PAGE) -> Page:
    versions = ParameterVersion.objects.select_related("proposed_by", "approved_by").defer("evidence")
    if parameter:
        versions = versions.filter(parameter=parameter)
    return keyset(versions, "created_at", cursor, limit)


def optimizer_runs(parameter: str, cursor: Cursor | None, limit: int = RUNS_PAGE) -> Page:
    runs: QuerySet[OptimizerRun] = OptimizerRun.objects.all()
    if parameter:
        runs = runs.filter(parameter=parameter)
    return keyset(runs, "ran_at", cursor, limit)


def effectiveness_runs(cursor: Cursor | None, limit: int = RUNS_PAGE) -> Page:
    page = keyset(EffectivenessRun.objects.all(), "ran_at", cursor, limit)
    prefetch_related_objects(page.rows, "reports")  # one query for the page's report rows
    return page
