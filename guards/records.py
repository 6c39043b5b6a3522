"""Storing a decision: the evaluation row and its guard events, committed before the answer.

On PostgreSQL the evaluation and its events go in ONE statement (a data-modifying CTE), which in
autocommit is its own durable transaction: one round trip instead of five (BEGIN, two inserts,
COMMIT and Django's bookkeeping), with the same guarantees — all rows or none, committed (with
PostgreSQL's synchronous commit) before the answer leaves, the unique signal_id and the
snapshot foreign key checked at its end (issue 11, docs/decisions.md). Inside a caller's
transaction (tests, a management command) it runs in a savepoint, as the ORM path did, so a
refused insert leaves the caller's transaction usable. Other databases (the embedded SQLite)
take the ORM path in one transaction.

The rows arrive as plain dicts keyed by field attname: the gate builds no model instances on its
hot path (they cost more than the rest of the decision, issue 11).
"""

from __future__ import annotations

from contextlib import nullcontext
from decimal import Decimal
from functools import cache
from typing import Any

import orjson
from django.db import connections, router, transaction
from django.db.models import Field

from guards.models import Evaluation, GuardEvent


def insert_decision(evaluation: dict[str, Any], events: list[dict[str, Any]]) -> int:
    """Inserts the evaluation row and its event rows (without `evaluation_id`) atomically; returns
    the evaluation's id. A repeated signal_id raises IntegrityError and stores nothing."""
    alias = router.db_for_write(Evaluation)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        with transaction.atomic(using=alias):
            row = Evaluation(**evaluation)
            row.save(using=alias, force_insert=True)
            GuardEvent.objects.using(alias).bulk_create([GuardEvent(**event, evaluation=row) for event in events])
        return row.pk
    eval_defaults, event_defaults = _defaults()
    decision = {"evaluation": eval_defaults | evaluation, "events": [event_defaults | e for e in events]}
    with transaction.atomic(using=alias) if connection.in_atomic_block else nullcontext():
        with connection.cursor() as cursor:
            cursor.execute(_sql(alias), [orjson.dumps(decision, default=_exact).decode()])
            return cursor.fetchone()[0]


def _exact(value: Any) -> str:
    """Decimals as their exact text (amounts arrive at the column's 8 places, schemas.exact_amount);
    times, enums and the rest are orjson's own (ISO 8601 with the offset, the enum's value)."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


@cache
def _columns() -> tuple[list[Field], list[Field]]:
    eval_fields = [f for f in Evaluation._meta.concrete_fields if not f.primary_key]
    event_fields = [f for f in GuardEvent._meta.concrete_fields if not f.primary_key and f.attname != "evaluation_id"]
    return eval_fields, event_fields


@cache
def _defaults() -> tuple[dict[str, Any], dict[str, Any]]:
    """The columns whose default is not NULL, so a row the caller leaves short is stored as the ORM
    would store it (a key the document lacks reads as NULL: NULL defaults need not travel)."""
    eval_fields, event_fields = _columns()

    def defaults(fields: list[Field]) -> dict[str, Any]:
        return {f.column: found for f in fields if (found := f.get_default()) is not None}

    return defaults(eval_fields), defaults(event_fields)


@cache
def _sql(alias: str) -> str:
    """The decision as ONE JSON document, read back into rows by jsonb_to_record(set): one parameter
    to adapt and a short, constant text."""
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
