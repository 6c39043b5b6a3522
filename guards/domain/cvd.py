"""Whale and retail taker flow from trade-level data (SPEC §2, §5.2).

Amounts are integer US cents so that sums are exact and a replay at another threshold
gives the very same answer. A notional is truncated toward zero to whole cents, which
keeps every comparison with a whole-cent threshold exactly as it was on the raw product.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Any

CENT = Decimal("0.01")


@dataclass(frozen=True)
class AggTrade:
    """One Binance aggTrades row: price and base quantity as exact decimals."""

    agg_id: int
    price: Decimal
    qty: Decimal
    time_ms: int
    buyer_is_maker: bool  # True: the taker sold

    @property
    def taker_buy(self) -> bool:
        return not self.buyer_is_maker


@dataclass(frozen=True)
class TakerOrder:
    """One taker order: consecutive aggTrades with the same time and side, merged."""

    time_ms: int
    notional_cents: int
    taker_buy: bool
    first_agg_id: int
    last_agg_id: int

    @property
    def signed_cents(self) -> int:
        return self.notional_cents if self.taker_buy else -self.notional_cents


def to_cents(usd: Decimal) -> int:
    return int((usd / CENT).to_integral_value(rounding=ROUND_DOWN))


def threshold_to_cents(usd: Decimal) -> int:
    """A threshold in whole cents, rounded UP: an order is whale when its truncated notional is
    at or above the exact threshold, so 100,000.005 must not admit a 100,000.00 order."""
    return int((usd / CENT).to_integral_value(rounding=ROUND_CEILING))


def cents_to_usd(cents: int) -> Decimal:
    return (Decimal(cents) * CENT).quantize(CENT)


def group_taker_orders(trades: Iterable[AggTrade]) -> list[TakerOrder]:
    """Merge consecutive rows with equal time and taker side into one taker order.

    A market order sweeping several price levels arrives as several rows with the same
    `T` and side (MARKETDATA.md); comparing each row with the whale threshold would call a
    $300k sweep three retail trades. Notional is summed exactly, then truncated to cents.
    """
    orders: list[TakerOrder] = []
    group: list[AggTrade] = []
    for trade in trades:
        if group and (trade.time_ms != group[0].time_ms or trade.taker_buy != group[0].taker_buy):
            orders.append(_merge(group))
            group = []
        group.append(trade)
    if group:
        orders.append(_merge(group))
    return orders


def _merge(group: Sequence[AggTrade]) -> TakerOrder:
    notional = sum((t.price * t.qty for t in group), Decimal(0))
    return TakerOrder(group[0].time_ms, to_cents(notional), group[0].taker_buy, group[0].agg_id, group[-1].agg_id)


@dataclass(frozen=True)
class FlowSplit:
    """Buy and sell notional of whale (>= threshold) and retail (< threshold) taker orders."""

    threshold_cents: int
    whale_buy_cents: int
    whale_sell_cents: int
    retail_buy_cents: int
    retail_sell_cents: int

    @property
    def whale_cvd_cents(self) -> int:
        return self.whale_buy_cents - self.whale_sell_cents

    @property
    def retail_cvd_cents(self) -> int:
        return self.retail_buy_cents - self.retail_sell_cents

    @property
    def divergent(self) -> bool:
        """Whale and retail CVD point opposite ways (a zero on either side is not divergence)."""
        return self.whale_cvd_cents * self.retail_cvd_cents < 0

    def as_usd(self) -> dict[str, str]:
        fields = ("whale_buy", "whale_sell", "retail_buy", "retail_sell", "whale_cvd", "retail_cvd")
        out = {f"{name}_usd": str(cents_to_usd(getattr(self, f"{name}_cents"))) for name in fields}
        out["threshold_usd"] = str(cents_to_usd(self.threshold_cents))
        return out


@dataclass(frozen=True)
class FlowDetail:
    """What an exact split at any threshold >= `floor_cents` needs (SPEC §5.2).

    Totals of all taker buying and selling, plus the signed notional of every order at or
    above the floor. Orders below the floor are retail at every threshold we may replay.
    """

    buy_total_cents: int
    sell_total_cents: int
    floor_cents: int
    large_orders: tuple[int, ...]  # signed cents, + taker buy, - taker sell

    @classmethod
    def from_orders(cls, orders: Iterable[TakerOrder], floor_cents: int) -> FlowDetail:
        buy = sell = 0
        large: list[int] = []
        for order in orders:
            if order.taker_buy:
                buy += order.notional_cents
            else:
                sell += order.notional_cents
            if order.notional_cents >= floor_cents:
                large.append(order.signed_cents)
        return cls(buy, sell, floor_cents, tuple(large))

    @classmethod
    def combine(cls, parts: Iterable[FlowDetail]) -> FlowDetail:
        """Sum windows; the combined floor is the highest floor of the parts."""
        parts = list(parts)
        if not parts:
            return cls(0, 0, 0, ())
        floor = max(p.floor_cents for p in parts)
        large = tuple(o for p in parts for o in p.large_orders if abs(o) >= floor)
        return cls(sum(p.buy_total_cents for p in parts), sum(p.sell_total_cents for p in parts), floor, large)

    def split(self, threshold_cents: int) -> FlowSplit:
        """Whale/retail split at `threshold_cents`; whale means notional >= threshold."""
        if threshold_cents < self.floor_cents:
            raise ValueError(f"threshold {threshold_cents} is below the detail floor {self.floor_cents} cents")
        whale_buy = sum(o for o in self.large_orders if o >= threshold_cents)
        whale_sell = -sum(o for o in self.large_orders if -o >= threshold_cents)
        return FlowSplit(
            threshold_cents,
            whale_buy,
            whale_sell,
            self.buy_total_cents - whale_buy,
            self.sell_total_cents - whale_sell,
        )

    def to_json(self) -> dict:
        return {
            "buy_total_cents": self.buy_total_cents,
            "sell_total_cents": self.sell_total_cents,
            "floor_cents": self.floor_cents,
            "large_orders": list(self.large_orders),
        }

    @classmethod
    def from_json(cls, raw: Any) -> FlowDetail:
        """The stored detail back, checked: whole cents, totals and floor not negative, no more
        whale flow than total flow, amounts below 10^20 cents. Anything else is ValueError
        (or KeyError for a missing field): a damaged snapshot must fail open, never be split."""
        if not isinstance(raw, dict) or not isinstance(raw.get("large_orders"), list):
            raise ValueError("flow detail is not an object with a large_orders list")
        detail = cls(
            _cents_field(raw["buy_total_cents"]),
            _cents_field(raw["sell_total_cents"]),
            _cents_field(raw["floor_cents"]),
            tuple(_cents_field(o) for o in raw["large_orders"]),
        )
        if min(detail.buy_total_cents, detail.sell_total_cents, detail.floor_cents) < 0:
            raise ValueError("flow detail has a negative total or floor")
        if (
            sum(o for o in detail.large_orders if o > 0) > detail.buy_total_cents
            or -sum(o for o in detail.large_orders if o < 0) > detail.sell_total_cents
        ):
            raise ValueError("flow detail has more large orders than total flow")
        return detail


MAX_CENTS = 10**20  # far beyond any market's flow; keeps every sum inside Decimal's precision


def _cents_field(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= MAX_CENTS:
        raise ValueError(f"flow detail amount {value!r} is not whole cents")
    return value


LOWEST_CANDIDATE = Decimal("0.8")  # the optimizer tries the active threshold at -20% .. +20% (SPEC §5.4)


def detail_floor_cents(active_threshold_cents: int) -> int:
    """Half the lowest optimizer candidate (-20%): 40% of the active threshold (SPEC §5.2, §5.4)."""
    return int(active_threshold_cents * LOWEST_CANDIDATE) // 2
