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
from decimal import Decimal
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
    """The whole decision as ONE JSON document, read back into rows by jsonb_to_record(set): one
    parameter to adapt and a short, constant text (psycopg caches the parsing of texts under 4 kB)."""
    eval_fields, event_fields = _columns()
    decision = {
        "evaluation": {field.column: _json_value(field.value_from_object(evaluation)) for field in eval_fields},
        "events": [
            {field.column: _json_value(field.value_from_object(event)) for field in event_fields} for event in events
        ],
    }
    return _sql(alias), [json.dumps(decision)]


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

    def names(fields: list[Field]) -> str:
        return ", ".join(quote(f.column) for f in fields)

    def types(fields: list[Field]) -> str:
        return ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)

    return (
        "WITH d AS (SELECT %s::jsonb AS doc), "
        f"e AS (INSERT INTO {quote(Evaluation._meta.db_table)} ({names(eval_fields)}) "
        f"SELECT {names(eval_fields)} FROM d, jsonb_to_record(d.doc -> 'evaluation') AS r({types(eval_fields)}) "
        "RETURNING id), "
        f"ev AS (INSERT INTO {quote(GuardEvent._meta.db_table)} ({names(event_fields)}, {quote('evaluation_id')}) "
        f"SELECT {names(event_fields)}, (SELECT id FROM e) "
        f"FROM d, jsonb_to_recordset(d.doc -> 'events') AS r({types(event_fields)})) "
        "SELECT id FROM e"
    )


def _json_value(value):
    """A field's value in the JSON document: times as ISO text, decimals as their exact text (amounts
    arrive at the column's 8 places, schemas.exact_amount), choices as their value."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value) if isinstance(value, StrEnum) else value
