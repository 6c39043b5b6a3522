"""Storing a decision: the evaluation row and its guard events, committed before the answer.

On PostgreSQL the evaluation and its events go in ONE statement (a data-modifying CTE), which in
autocommit is its own durable transaction: one round trip instead of five (BEGIN, two inserts,
COMMIT and Django's bookkeeping), with the same guarantees — all rows or none, committed (with
PostgreSQL's synchronous commit) before the answer leaves, the unique signal_id and the
snapshot foreign key checked at its end (issue 11, docs/decisions.md). Inside a caller's
transaction (tests, a management command) it runs in a savepoint, as the ORM path did, so a
refused insert leaves the caller's transaction usable. Other databases (the embedded SQLite)
take the ORM path in one transaction.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import datetime
from enum import StrEnum
from functools import cache

from django.db import connections, router, transaction
from django.db.models import Field

from guards.models import Evaluation, GuardEvent


def insert_decision(evaluation: Evaluation, events: list[GuardEvent]) -> None:
    """Inserts `evaluation` and `events` (whose evaluation is `evaluation`) atomically."""
    alias = router.db_for_write(Evaluation)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        with transaction.atomic(using=alias):
            evaluation.save(using=alias, force_insert=True)
            for event in events:
                event.evaluation = evaluation
            GuardEvent.objects.using(alias).bulk_create(events)
        return
    sql, params = _one_statement(alias, evaluation, events)
    with transaction.atomic(using=alias) if connection.in_atomic_block else nullcontext():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            evaluation.pk = cursor.fetchone()[0]
    for event in events:
        event.evaluation = evaluation


def _one_statement(alias: str, evaluation: Evaluation, events: list[GuardEvent]) -> tuple[str, list]:
    """The evaluation as one row of values, its events as ONE JSON array read by jsonb_to_recordset:
    few parameters and a short, constant text (psycopg caches the parsing of texts under 4 kB)."""
    connection = connections[alias]
    eval_fields, event_fields = _columns()
    params = [field.get_db_prep_save(field.pre_save(evaluation, add=True), connection) for field in eval_fields]
    rows = [{field.column: _json_value(field.value_from_object(event)) for field in event_fields} for event in events]
    return _sql(alias), [*params, json.dumps(rows)]


@cache
def _columns() -> tuple[list[Field], list[Field]]:
    eval_fields = [f for f in Evaluation._meta.concrete_fields if not f.primary_key]
    event_fields = [f for f in GuardEvent._meta.concrete_fields if not f.primary_key and f.attname != "evaluation_id"]
    return eval_fields, event_fields


@cache
def _sql(alias: str) -> str:
    connection = connections[alias]
    quote = connection.ops.quote_name
    eval_fields, event_fields = _columns()
    names = ", ".join(quote(f.column) for f in event_fields)
    return (
        f"WITH e AS (INSERT INTO {quote(Evaluation._meta.db_table)} ({', '.join(quote(f.column) for f in eval_fields)})"
        f" VALUES ({', '.join(['%s'] * len(eval_fields))}) RETURNING id), "
        f"ev AS (INSERT INTO {quote(GuardEvent._meta.db_table)} ({names}, {quote('evaluation_id')}) "
        f"SELECT {names}, (SELECT id FROM e) FROM jsonb_to_recordset(%s::jsonb) AS r("
        + ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in event_fields)
        + ")) SELECT id FROM e"
    )


def _json_value(value):
    """An event's field as JSON for jsonb_to_recordset: times as ISO text, choices as their value."""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if isinstance(value, StrEnum) else value
