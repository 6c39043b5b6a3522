"""Open positions (SPEC §4): tracked from min-hold answers until the trade with the same id closes them.

The two writers of one position (a min-hold answer that opens or refreshes it, the trade that
closes it) serialise on `lock_position`, so a trade never leaves it open.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from guards.domain.hold import HeldPosition, HoldDecision
from guards.models import Position, Trade


def lock_position(position_id: str) -> None:
    """Serialise the two writers of one position (a min-hold answer that opens or refreshes it,
    the trade that closes it) until the transaction ends, so a trade never leaves it open.
    SQLite runs write transactions one at a time already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"position:{position_id}"])


def track_open_position(position: HeldPosition, decision: HoldDecision, answer: dict, now: datetime) -> None:
    """Keep the position as open with its latest answer, unless its trade was already reported."""
    if position.position_id is None:  # an untracked question: nothing to keep
        return
    lock_position(position.position_id)
    if Trade.objects.filter(trade_id=position.position_id).exists():
        return
    Position.objects.update_or_create(
        position_id=position.position_id,
        defaults={
            "symbol": position.symbol,
            "direction": position.direction,
            "strategy": position.strategy,
            "entry_price": position.entry_price,
            "current_price": position.current_price,
            "opened_at": position.opened_at,
            "min_hold_seconds": decision.seconds,
            "hold_reason": decision.reason,
            "hold_until": answer["hold_until"],
            "cluster": answer["cluster"],
            "is_open": True,
            "updated_at": now,
        },
    )


def close_position(position_id: str, *, closed_at: datetime, now: datetime) -> None:
    """The position's trade was reported: it is no longer open (call under `lock_position`)."""
    Position.objects.filter(position_id=position_id, is_open=True).update(
        is_open=False, closed_at=closed_at, updated_at=now
    )
