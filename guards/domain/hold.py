"""Magnet Target 2.0 minimum hold (SPEC §4): how long a position must be held at least.

Priority for TRUE_TREND: moving toward a liquidation cluster (90 min), options max pain far
on the favourable side (75 min), otherwise the standard 45 min. Other strategies get the
default (0). The hold only delays exits the bot chooses; protective exits are never held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from guards.domain.spec import minutes, percent
from guards.domain.types import Direction, HoldReason

TRUE_TREND = "TRUE_TREND"
PROTECTIVE_EXITS = (
    "Stop-loss, liquidation and kill-switch exits are always allowed; "
    "the minimum hold applies only to exits the bot chooses."
)


# The hold rules' tunables (SPEC §4, §5.5).
HOLD_PARAMETERS = (
    percent(
        "cluster_window_pct", "Liquidation cluster window", 3, "Only clusters within this distance of the price count."
    ),
    minutes("liq_magnet_hold_minutes", "Hold toward a liquidation cluster", 90, "TRUE_TREND moving to a cluster."),
    minutes("max_pain_hold_minutes", "Hold when max pain is far", 75, "TRUE_TREND with max pain far ahead."),
    minutes("true_trend_hold_minutes", "Standard TRUE_TREND hold", 45, "Every other TRUE_TREND position."),
    minutes("default_min_hold_minutes", "Hold for other strategies", 0, "Strategies other than TRUE_TREND."),
    percent(
        "max_pain_far_pct",
        "Max pain far distance",
        5,
        "Max pain at least this far on the position's favourable side holds longer.",
    ),
)


class NearCluster(Protocol):
    @property
    def price(self) -> Decimal: ...

    @property
    def intensity(self) -> Decimal: ...

    @property
    def distance_pct(self) -> Decimal: ...

    @property
    def side(self) -> Direction: ...  # whose positions the cluster liquidates: SHORT above the price, LONG below


@dataclass(frozen=True)
class HeldPosition:
    """An open position as the bot describes it when it asks how long to hold (SPEC §4)."""

    symbol: str
    direction: Direction
    strategy: str
    entry_price: Decimal
    current_price: Decimal
    opened_at: datetime
    position_id: str | None = None  # with an id the position is tracked as open until its trade


@dataclass(frozen=True)
class HoldParams:
    """The hold rules' parameters; None is a parameter that cannot be used (missing or malformed):
    the rule needing it is passed over, as a rule on unusable data is."""

    liq_magnet_minutes: int | None = 90
    max_pain_minutes: int | None = 75
    true_trend_minutes: int | None = 45
    default_minutes: int | None = 0
    max_pain_far_pct: Decimal | None = Decimal("5")


@dataclass(frozen=True)
class HoldDecision:
    minutes: int
    reason: HoldReason
    cluster: NearCluster | None = None
    max_pain_distance_pct: Decimal | None = None

    @property
    def seconds(self) -> int:
        return self.minutes * 60


def cluster_ahead(position: HeldPosition, top_clusters: Sequence[NearCluster]) -> NearCluster | None:
    """The nearest of the top-2 clusters lying beyond both entry and current price in the
    position's direction (LONG: strictly above both; SHORT: strictly below both).

    `top_clusters` are already the top 2 within the cluster window of the current price.
    """
    if position.direction is Direction.LONG:
        ahead = [c for c in top_clusters if c.price > position.entry_price and c.price > position.current_price]
    else:
        ahead = [c for c in top_clusters if c.price < position.entry_price and c.price < position.current_price]
    return min(ahead, key=lambda c: abs(c.price - position.current_price), default=None)


def max_pain_distance_pct(position: HeldPosition, max_pain_price: Decimal) -> Decimal:
    """Signed distance to max pain in the position's favour, in % of the current price."""
    move = max_pain_price - position.current_price
    signed = move if position.direction is Direction.LONG else -move
    return signed / position.current_price * 100


def min_hold(
    position: HeldPosition,
    top_clusters: Sequence[NearCluster] | None,
    max_pain_price: Decimal | None,
    params: HoldParams,
) -> HoldDecision:
    """The minimum hold for `position`. None for an input or a parameter means it is unusable
    (fail open: the rule that needs it is passed over, never applied on bad data). Without a
    usable standard TRUE_TREND hold the strategy default applies; without that, no hold."""
    if position.strategy == TRUE_TREND:
        if (
            top_clusters
            and params.liq_magnet_minutes is not None
            and (cluster := cluster_ahead(position, top_clusters))
        ):
            return HoldDecision(params.liq_magnet_minutes, HoldReason.LIQ_CLUSTER, cluster)
        if max_pain_price is not None and params.max_pain_minutes is not None and params.max_pain_far_pct is not None:
            distance = max_pain_distance_pct(position, max_pain_price)
            if distance >= params.max_pain_far_pct:
                return HoldDecision(params.max_pain_minutes, HoldReason.MAX_PAIN_FAR, None, distance)
        if params.true_trend_minutes is not None:
            return HoldDecision(params.true_trend_minutes, HoldReason.TRUE_TREND)
    return HoldDecision(params.default_minutes or 0, HoldReason.DEFAULT)
