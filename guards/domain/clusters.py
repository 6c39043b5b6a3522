"""Liquidation clusters from a CoinGlass heatmap (SPEC §2, §4; docs/liquidation-clusters.md).

"High concentration", precisely: in the heatmap's latest time column, a price level whose
estimated liquidation amount is at or above the 90th percentile (nearest rank) of that
column's non-zero levels and at least 10% of the column's largest level. Neighbouring
high levels (adjacent rows in price order) merge into one cluster whose price is the
intensity-weighted mean and whose intensity is the sum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from guards.domain.numbers import MalformedPayload, to_decimal, to_millis
from guards.domain.types import Direction

PERCENTILE = Decimal("0.90")
MIN_SHARE_OF_PEAK = Decimal("0.10")


@dataclass(frozen=True)
class Heatmap:
    y_axis: tuple[Decimal, ...]
    # (x_index, y_index, usd): parse_heatmap keeps the latest column's cells only (the others are
    # checked, then dropped: nothing reads them); a Heatmap built by hand may hold every column.
    cells: tuple[tuple[int, int, Decimal], ...]
    candle_times_ms: tuple[int, ...]
    current_price: Decimal  # close of the last candle

    @property
    def latest_column(self) -> int | None:
        return max((x for x, _, _ in self.cells), default=None)


@dataclass(frozen=True)
class LiquidationCluster:
    price: Decimal
    intensity: Decimal  # estimated USD liquidations


@dataclass(frozen=True)
class NearCluster:
    price: Decimal
    intensity: Decimal
    distance_pct: Decimal  # |price - reference| / reference x 100
    side: Direction  # whose positions it liquidates: SHORT above the reference price, LONG below


def parse_heatmap(data: Any) -> Heatmap:
    """The `data` of aggregated-heatmap/model1 (or its per-pair and model2/3 twins)."""
    if not isinstance(data, dict):
        raise MalformedPayload("heatmap data is not an object")
    try:
        y_axis = tuple(to_decimal(v, "y_axis") for v in data["y_axis"])
        raw_cells, raw_candles = data["liquidation_leverage_data"], data["price_candlesticks"]
    except (KeyError, TypeError):
        raise MalformedPayload("heatmap lacks y_axis, liquidation_leverage_data or price_candlesticks") from None
    if not isinstance(raw_cells, list) or not isinstance(raw_candles, list):
        raise MalformedPayload("heatmap liquidation_leverage_data and price_candlesticks must be lists")
    candles = [_candle(row) for row in raw_candles]
    if not candles or not y_axis:
        raise MalformedPayload("heatmap has no price candles or no price rows")
    rows, columns = len(y_axis), len(candles)
    checked = [_cell(c, rows, columns) for c in raw_cells]  # every cell checked, only the latest converted
    latest = max((x for x, _, _ in checked), default=None)
    cells = tuple((x, y, to_decimal(v, "cell value")) for x, y, v in checked if x == latest)
    return Heatmap(y_axis, cells, tuple(t for t, _ in candles), candles[-1][1])


def _candle(row: Any) -> tuple[int, Decimal]:
    if not isinstance(row, (list, tuple)) or len(row) < 5:
        raise MalformedPayload("a price candle is not [ts, open, high, low, close, ...]")
    return to_millis(row[0], "candle time"), to_decimal(row[4], "candle close")


def _cell(cell: Any, rows: int, columns: int) -> tuple[int, int, Any]:
    """A cell checked (shape, indices inside the axes, a finite number); its value is left as it
    came, for the caller to convert only where it is used."""
    if type(cell) is list and len(cell) == 3 and type(cell[0]) is type(cell[1]) is int and type(cell[2]) is float:
        x, y, value = cell  # the common shape, thousands of cells a fetch: no conversion to check it
        if not math.isfinite(value):
            raise MalformedPayload(f"cell value is not finite: {value!r}")
    elif isinstance(cell, (list, tuple)) and len(cell) == 3:
        x, y = int(to_decimal(cell[0], "x_index")), int(to_decimal(cell[1], "y_index"))
        value = to_decimal(cell[2], "cell value")
    else:
        raise MalformedPayload("a heatmap cell is not [x, y, value]")
    if not (0 <= y < rows) or not (0 <= x < columns):
        raise MalformedPayload(f"heatmap cell [{x}, {y}] points outside y_axis or past the candles")
    return x, y, value


def find_clusters(heatmap: Heatmap) -> list[LiquidationCluster]:
    """Every high-concentration cluster of the latest column, strongest first."""
    latest = heatmap.latest_column
    levels: dict[Decimal, Decimal] = {}  # price -> USD; rows listing one price twice are one level
    for x, y, usd in heatmap.cells:
        if x == latest and usd > 0:
            price = heatmap.y_axis[y]
            levels[price] = levels.get(price, Decimal(0)) + usd
    if not levels:
        return []
    cutoff = max(_nearest_rank(sorted(levels.values()), PERCENTILE), max(levels.values()) * MIN_SHARE_OF_PEAK)
    rank = {price: i for i, price in enumerate(sorted(set(heatmap.y_axis)))}
    high = sorted(price for price, usd in levels.items() if usd >= cutoff)
    return sorted(_merge_neighbours(high, rank, levels), key=lambda c: -c.intensity)


def _nearest_rank(ordered: list[Decimal], share: Decimal) -> Decimal:
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _merge_neighbours(high, rank, levels) -> list[LiquidationCluster]:
    """`high` prices in ascending order; neighbours on the price axis merge into one cluster."""
    groups: list[list[Decimal]] = []
    for price in high:
        if groups and rank[price] == rank[groups[-1][-1]] + 1:
            groups[-1].append(price)
        else:
            groups.append([price])
    clusters = []
    for group in groups:
        total = sum((levels[p] for p in group), Decimal(0))
        price = sum((p * levels[p] for p in group), Decimal(0)) / total
        clusters.append(LiquidationCluster(price.quantize(Decimal("0.00000001")), total))
    return clusters


def top_clusters(
    clusters: Sequence[LiquidationCluster], price: Decimal, *, window_pct: Decimal = Decimal(3), n: int = 2
) -> list[NearCluster]:
    """The `n` strongest clusters within `window_pct` of `price` (exactly 3% counts).

    Above the price a cluster is SHORT liquidations, below it LONG; one exactly at the price
    is labelled SHORT (it is the level shorts are liquidated at once price ticks up).
    """
    near = []
    for cluster in clusters:
        distance = abs(cluster.price - price) / price * 100
        if distance <= window_pct:
            side = Direction.SHORT if cluster.price >= price else Direction.LONG
            near.append(NearCluster(cluster.price, cluster.intensity, distance, side))
    return sorted(near, key=lambda c: (-c.intensity, c.distance_pct))[:n]


def clusters_to_json(clusters: Sequence[LiquidationCluster]) -> list[dict[str, str]]:
    return [{"price": str(c.price), "intensity": str(c.intensity)} for c in clusters]
