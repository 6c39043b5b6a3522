"""Liquidation clusters (SPEC §2, §4, docs/liquidation-clusters.md): parse, find, merge, top 2."""

from decimal import Decimal as D

import pytest

from guards.domain.clusters import LiquidationCluster, find_clusters, parse_heatmap, top_clusters
from guards.domain.numbers import MalformedPayload

CANDLES = [
    [1722676500, "61486", "61596.4", "61434.4", "100", "63753192.11"],
    [1722680100, "100", "101", "99", "100.0", "1"],
]


def heatmap(cells, y_axis=None):
    return parse_heatmap(
        {
            "y_axis": y_axis or [96.0, 97.0, 98.0, 99.0, 100.0, 101.0, 102.0, 103.0],
            "liquidation_leverage_data": cells,
            "price_candlesticks": CANDLES,
        }
    )


def test_current_price_is_the_last_candle_close_and_numbers_are_coerced():
    hm = parse_heatmap(
        {
            "y_axis": ["60500.0", 60531.5, 60563],
            "liquidation_leverage_data": [["1", 2, "412000.5"]],
            "price_candlesticks": CANDLES,
        }
    )
    assert hm.current_price == D("100.0")
    assert hm.y_axis == (D("60500.0"), D("60531.5"), D("60563"))
    assert hm.cells == ((1, 2, D("412000.5")),)


@pytest.mark.parametrize(
    "data, problem",
    [
        (
            {"y_axis": [1.0], "liquidation_leverage_data": [[0, 1, 5.0]], "price_candlesticks": CANDLES},
            "outside y_axis",
        ),
        (
            {"y_axis": [1.0], "liquidation_leverage_data": [[2, 0, 5.0]], "price_candlesticks": CANDLES},
            "past the candles",
        ),
        ({"y_axis": [1.0], "liquidation_leverage_data": [[0, 0]], "price_candlesticks": CANDLES}, "[x, y, value]"),
        ({"y_axis": [1.0], "liquidation_leverage_data": [[0, 0, "x"]], "price_candlesticks": CANDLES}, "not a number"),
        ({"y_axis": [1.0], "liquidation_leverage_data": []}, "lacks"),
        ({"y_axis": [1.0], "liquidation_leverage_data": [], "price_candlesticks": []}, "no price candles"),
        ([1, 2], "not an object"),
        ({"y_axis": [1.0], "liquidation_leverage_data": None, "price_candlesticks": CANDLES}, "must be lists"),
        ({"y_axis": [1.0], "liquidation_leverage_data": [], "price_candlesticks": None}, "must be lists"),
        ({"y_axis": None, "liquidation_leverage_data": [], "price_candlesticks": CANDLES}, "lacks"),
    ],
)
def test_malformed_heatmaps_are_rejected(data, problem):
    with pytest.raises(MalformedPayload, match=problem.replace("[", r"\[").replace("]", r"\]")):
        parse_heatmap(data)


WIDE_AXIS = [90.0 + i for i in range(30)]  # 90 .. 119, one row per dollar


def wide(column, strong):
    """30 background levels of $10 in `column` plus the strong ones {row: usd}."""
    cells = [[column, y, 10.0] for y in range(30)] + [[column, y, usd] for y, usd in strong.items()]
    return heatmap(cells, WIDE_AXIS)


def test_only_the_latest_column_counts():
    older = [[0, 1, 9e9]]
    hm = parse_heatmap(
        {
            "y_axis": WIDE_AXIS,
            "price_candlesticks": CANDLES,
            "liquidation_leverage_data": older + [[1, y, 10.0] for y in range(30)] + [[1, 20, 500.0]],
        }
    )
    assert [c.price for c in find_clusters(hm)] == [D("110.0")]


def test_neighbouring_high_levels_merge_into_one_weighted_cluster():
    clusters = find_clusters(wide(0, {10: 290.0, 11: 90.0, 5: 190.0}))  # rows 10+11 are neighbours
    assert clusters[0] == LiquidationCluster(D("100.25000000"), D("400.0"))
    assert clusters[1] == LiquidationCluster(D("95.00000000"), D("200.0"))


def test_unsorted_y_axis_is_merged_by_price_order():
    y_axis = [103.0, 96.0, 101.0, 98.0, 100.0, 97.0, 99.0, 102.0]  # rows 4 (100) and 2 (101) are neighbours
    clusters = find_clusters(heatmap([[0, 4, 100.0], [0, 2, 100.0]], y_axis))
    assert clusters == [LiquidationCluster(D("100.50000000"), D("200.0"))]


@pytest.mark.parametrize(
    "y_axis, rows",
    [
        ([99.0, 99.0, 99.0], (0, 1)),
        ([99.0, 99.0, 99.0], (0, 2)),  # was two clusters of 10 at 99
        ([99.0, 99.0, 100.0, 99.0], (0, 3)),  # was two clusters of 10 at 99
        ([100.0, 99.0, 99.0], (1, 2)),
    ],
)
def test_rows_listing_one_price_twice_are_one_level_whatever_their_order(y_axis, rows):
    """Found by the row-order property (test_properties.py): two rows at one price with a third row
    at that price between them were two clusters at that price; in another order, one cluster."""
    cells = [[0, row, 10.0] for row in rows]
    assert find_clusters(heatmap(cells, y_axis)) == [LiquidationCluster(D("99.00000000"), D("20.0"))]


def test_background_levels_are_not_high_concentration():
    cells = [[0, y, 10.0] for y in range(8)] + [[0, 6, 1000.0]]
    assert [c.price for c in find_clusters(heatmap(cells))] == [D("102.0")]


@pytest.mark.parametrize(
    "cluster_price, included, side",
    [
        ("103", True, "SHORT"),  # exactly 3% above counts
        ("103.01", False, None),  # 3.01% does not
        ("97", True, "LONG"),  # exactly 3% below counts
        ("96.99", False, None),
        ("100.5", True, "SHORT"),
        ("99.5", True, "LONG"),
    ],
)
def test_cluster_window_boundary_and_side(cluster_price, included, side):
    near = top_clusters([LiquidationCluster(D(cluster_price), D(1))], D(100), window_pct=D(3))
    assert bool(near) is included
    if included:
        assert near[0].side == side and near[0].distance_pct == abs(D(cluster_price) - 100)


def test_top_two_are_the_strongest_within_the_window():
    clusters = [LiquidationCluster(D(p), D(i)) for p, i in (("101", 5), ("99", 9), ("102", 7), ("110", 100))]
    assert [c.price for c in top_clusters(clusters, D(100), window_pct=D(3))] == [D(99), D(102)]
