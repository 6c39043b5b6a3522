"""Closed trades reported by the bot (SPEC §5.1): idempotent on trade_id, linked to the signal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction

from guards.models import Evaluation, Position, Trade


@dataclass(frozen=True)
class TradeReport:
    trade_id: str
    signal_id: str | None
    symbol: str
    direction: str
    size: Decimal
    entry_price: Decimal
    exit_price: Decimal
    opened_at: datetime
    closed_at: datetime
    pnl: Decimal


def record_trade(*, report: TradeReport, now: datetime) -> tuple[Trade, bool]:
    """Store a closed trade once; a repeated trade_id returns the stored row (created=False).

    The trade closes the tracked position with the same id (SPEC §4 position tracking).
    """
    if existing := Trade.objects.filter(trade_id=report.trade_id).first():
        return existing, False
    evaluation = Evaluation.objects.filter(signal_id=report.signal_id).first() if report.signal_id else None
    try:
        with transaction.atomic():
            lock_position(report.trade_id)
            trade = Trade.objects.create(
                trade_id=report.trade_id,
                signal_id=report.signal_id or "",
                evaluation=evaluation,
                symbol=report.symbol,
                direction=report.direction,
                size=report.size,
                entry_price=report.entry_price,
                exit_price=report.exit_price,
                opened_at=report.opened_at,
                closed_at=report.closed_at,
                pnl=report.pnl,
                received_at=now,
            )
            Position.objects.filter(position_id=report.trade_id, is_open=True).update(
                is_open=False, closed_at=report.closed_at, updated_at=now
            )
    except IntegrityError:  # the same trade_id raced us
        return Trade.objects.get(trade_id=report.trade_id), False
    return trade, True


def lock_position(position_id: str) -> None:
    """Serialise the two writers of one position (a min-hold answer that opens or refreshes it,
    the trade that closes it) until the transaction ends, so a trade never leaves it open.
    SQLite runs write transactions one at a time already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"position:{position_id}"])


def trade_answer(trade: Trade) -> dict:
    return {
        "trade_id": trade.trade_id,
        "signal_id": trade.signal_id or None,
        "symbol": trade.symbol,
        "direction": trade.direction,
        "size": float(trade.size),
        "entry_price": float(trade.entry_price),
        "exit_price": float(trade.exit_price),
        "opened_at": trade.opened_at,
        "closed_at": trade.closed_at,
        "pnl": float(trade.pnl),
        "received_at": trade.received_at,
        "linked_to_signal": trade.evaluation_id is not None,
    }
