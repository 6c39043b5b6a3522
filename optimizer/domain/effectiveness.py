"""Guard effectiveness (SPEC §5.3): what a guard's blocks were worth, from their shadow outcomes.

The database aggregates (per guard over the window: evaluations, blocks, resizes, fail-opens and
four sums over the blocked signals' shadow P&L); this module turns them into the report's
figures, so the maths is in one tested place whatever does the counting. A block whose shadow
P&L is unknown (no price history) counts as a block but in none of the money or precision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class ShadowSums:
    """The blocked signals' shadow P&L of one guard, summed (SQL: SUM/COUNT with CASE on the sign)."""

    losses_avoided: Decimal  # sum of -shadow P&L over blocks whose shadow P&L < 0 (>= 0)
    gains_missed: Decimal  # sum of shadow P&L over blocks whose shadow P&L > 0 (>= 0)
    blocks_with_outcome: int  # blocks whose shadow P&L is known (zero included)
    losing_blocks: int  # blocks whose shadow P&L < 0

    @classmethod
    def of(cls, shadow_pnls: Iterable[Decimal | None]) -> ShadowSums:
        """From each block's shadow P&L (None: unknown)."""
        known = [p for p in shadow_pnls if p is not None]
        losses = [-p for p in known if p < 0]
        return cls(sum(losses, Decimal(0)), sum((p for p in known if p > 0), Decimal(0)), len(known), len(losses))


@dataclass(frozen=True)
class GuardEffectiveness:
    """One report row (SPEC §5.3): a guard's activity over the window and what its blocks were worth."""

    guard: str
    evaluations: int
    blocks: int
    resizes: int
    fail_opens: int
    shadow: ShadowSums

    @property
    def losses_avoided(self) -> Decimal:
        return self.shadow.losses_avoided

    @property
    def gains_missed(self) -> Decimal:
        return self.shadow.gains_missed

    @property
    def net_value(self) -> Decimal:
        """Losses avoided minus gains missed: positive when the guard's blocks saved money."""
        return self.shadow.losses_avoided - self.shadow.gains_missed

    @property
    def precision(self) -> Decimal | None:
        """Share of blocks with a known shadow outcome that would have lost money (a shadow P&L of
        exactly 0 is not a loss); None when no block has a known outcome."""
        if not self.shadow.blocks_with_outcome:
            return None
        return Decimal(self.shadow.losing_blocks) / Decimal(self.shadow.blocks_with_outcome)
