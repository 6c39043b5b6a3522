"""Magnet Target 2.0 (SPEC §4): 90 / 75 / 45 minutes in priority, default for other strategies."""

from datetime import datetime, timezone
from decimal import Decimal as D

import pytest

from guards.domain.clusters import NearCluster
from guards.domain.hold import HeldPosition, HoldParams, min_hold
from guards.domain.types import Direction

PARAMS = HoldParams()
OPENED = datetime(2026, 11, 24, 10, tzinfo=timezone.utc)


def position(direction="LONG", entry="100", current="100", strategy="TRUE_TREND"):
    return HeldPosition("BTCUSDT", Direction(direction), strategy, D(entry), D(current), OPENED)


def cluster(price, current="100"):
    distance = abs(D(price) - D(current)) / D(current) * 100
    return NearCluster(D(price), D(1000), distance, "SHORT" if D(price) >= D(current) else "LONG")


@pytest.mark.parametrize(
    "pos, clusters, max_pain, minutes, reason",
    [
        (position("LONG"), [cluster("102")], None, 90, "LIQ_CLUSTER"),  # ahead of a LONG
        (position("LONG"), [cluster("98")], None, 45, "TRUE_TREND"),  # behind a LONG
        (position("SHORT"), [cluster("98")], None, 90, "LIQ_CLUSTER"),
        (position("SHORT"), [cluster("102")], None, 45, "TRUE_TREND"),
        (position("LONG", entry="103", current="101"), [cluster("102", "101")], None, 45, "TRUE_TREND"),  # behind entry
        (position("LONG", entry="99", current="101"), [cluster("102", "101")], None, 90, "LIQ_CLUSTER"),
        (position("LONG"), [cluster("100")], None, 45, "TRUE_TREND"),  # at the price: not beyond it
        (position("LONG"), [], D("105"), 75, "MAX_PAIN_FAR"),  # exactly 5% in favour
        (position("LONG"), [], D("104.99"), 45, "TRUE_TREND"),
        (position("LONG"), [], D("95"), 45, "TRUE_TREND"),  # far but against a LONG
        (position("SHORT"), [], D("95"), 75, "MAX_PAIN_FAR"),
        (position("LONG"), [cluster("102")], D("110"), 90, "LIQ_CLUSTER"),  # magnet outranks max pain
        (position("LONG", strategy="SCALP"), [cluster("102")], D("110"), 0, "DEFAULT"),
        (position("LONG"), None, None, 45, "TRUE_TREND"),  # both inputs unusable: fail open to standard
    ],
)
def test_min_hold_table(pos, clusters, max_pain, minutes, reason):
    decision = min_hold(pos, clusters, max_pain, PARAMS)
    assert (decision.minutes, decision.reason, decision.seconds) == (minutes, reason, minutes * 60)


def test_nearest_ahead_cluster_is_the_target():
    decision = min_hold(position("LONG"), [cluster("102.5"), cluster("101")], None, PARAMS)
    assert decision.cluster.price == D("101")


def test_default_minutes_come_from_parameters():
    assert min_hold(position(strategy="MEAN_REVERT"), None, None, HoldParams(default_minutes=7)).minutes == 7
