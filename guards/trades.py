"""Closed trades reported by the bot (SPEC §5.1): idempotent on trade_id, linked to the signal."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from guards import positions
from guards.domain.types import ClosedTrade
from guards.models import Evaluation, Trade


def record_trade(*, trade: ClosedTrade, now: datetime) -> tuple[Trade, bool]:
    """Store a closed trade once; a repeated trade_id returns the stored row (created=False).

    The trade closes the tracked position with the same id (SPEC §4 position tracking).
    """
    if existing := Trade.objects.filter(trade_id=trade.trade_id).first():
        return existing, False
    evaluation = Evaluation.objects.filter(signal_id=trade.signal_id).first() if trade.signal_id else None
    try:
        with transaction.atomic():
            positions.lock_position(trade.trade_id)
            row = Trade.objects.create(
                trade_id=trade.trade_id,
                signal_id=trade.signal_id or "",
                evaluation=evaluation,
                symbol=trade.symbol,
                direction=trade.direction,
                size=trade.size,
                entry_price=trade.entry_price,
                exit_price=trade.exit_price,
                opened_at=trade.opened_at,
                closed_at=trade.closed_at,
                pnl=trade.pnl,
                received_at=now,
            )
            positions.close_position(trade.trade_id, closed_at=trade.closed_at, now=now)
    except IntegrityError:  # the same trade_id raced us
        return Trade.objects.get(trade_id=trade.trade_id), False
    return row, True


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
