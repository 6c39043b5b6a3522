"""Properties of the pure domain, checked by Hypothesis over many generated situations.

Whale flow (cvd.py): raising the whale threshold moves orders from whale to retail one side at a
time, so whale buy and whale sell volume are each non-increasing (retail each non-decreasing) and
whale + retail of each side is the same at every threshold. Whale CVD itself is NOT monotone: its
sign can flip as the threshold rises (test_whale_cvd_itself_can_change_sign_as_the_threshold_rises).
The chain (chain.py): the first block ends it, and the size multiplier stays in its bounds.
Clusters (clusters.py): what is selected does not depend on the order of the heatmap's rows.

Deterministic: a fixed number of examples from a seed derived from each test (derandomize), no
example database, no deadline (CI machines vary).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from guards.domain import inputs
from guards.domain.chain import build_steps, run_chain
from guards.domain.clusters import Heatmap, find_clusters, top_clusters
from guards.domain.cvd import (
    AggTrade,
    FlowDetail,
    FlowSplit,
    TakerOrder,
    detail_floor_cents,
    group_taker_orders,
)
from guards.domain.params import GUARD_NAMES, SPECS, Params, ParamValue, validate_value
from guards.domain.types import Decision, GuardResult, Intel, Reading

from .builders import NOW, signal

PROPERTY = settings(max_examples=300, deadline=None, derandomize=True, database=None)

# --- Strategies ---------------------------------------------------------------------------------


def heavy_tailed_cents(max_exponent: int = 11) -> st.SearchStrategy[int]:
    """Whole cents from 0 to 10^max_exponent, about as many small as huge (a log-uniform tail)."""
    return st.integers(0, max_exponent).flatmap(lambda e: st.integers(10**e // 10, 10**e))


@st.composite
def agg_trades(draw) -> list[AggTrade]:
    """aggTrades rows as Binance sends them: cent prices, 3-decimal quantities with a heavy tail,
    times in a few milliseconds only, so sweeps (same time and side) merge often."""
    rows = []
    for agg_id in range(draw(st.integers(0, 30))):
        price = Decimal(draw(st.integers(1, 15_000_000))) / 100  # $0.01 .. $150,000
        qty = Decimal(draw(heavy_tailed_cents(7))) / 1000  # 0 .. 10,000 contracts
        rows.append(AggTrade(agg_id, price, qty, draw(st.integers(0, 5)), draw(st.booleans())))
    return rows


def orders_from(trades: list[AggTrade]) -> list[TakerOrder]:
    return group_taker_orders(trades)


@st.composite
def flow(draw):
    """(orders, floor, two thresholds t1 <= t2 at or above the floor). Thresholds are often exactly
    an order's notional, one cent either side of it, or the floor itself: the boundaries."""
    orders = orders_from(draw(agg_trades()))
    notionals = [o.notional_cents for o in orders]
    near_orders = st.sampled_from(notionals).flatmap(lambda n: st.sampled_from([n - 1, n, n + 1]))
    candidate = st.one_of(heavy_tailed_cents(), near_orders) if notionals else heavy_tailed_cents()
    floor = draw(st.one_of(st.just(0), candidate))
    floor = max(0, floor)
    threshold = st.one_of(st.just(floor), candidate.map(lambda c: max(c, floor)))
    t1, t2 = sorted((draw(threshold), draw(threshold)))
    return orders, floor, t1, t2


def direct_split(orders: list[TakerOrder], threshold: int) -> tuple[int, int, int, int]:
    """What SPEC §2 says, straight from the orders: whale means notional >= threshold."""

    def total(buy: bool, whale: bool) -> int:
        return sum(o.notional_cents for o in orders if o.taker_buy is buy and (o.notional_cents >= threshold) is whale)

    return total(True, True), total(False, True), total(True, False), total(False, False)


def sides(split: FlowSplit) -> tuple[int, int, int, int]:
    return split.whale_buy_cents, split.whale_sell_cents, split.retail_buy_cents, split.retail_sell_cents


# --- Whale flow -----------------------------------------------------------------------------------


@PROPERTY
@given(flow())
def test_raising_the_threshold_never_adds_whale_volume_on_either_side(case):
    orders, floor, t1, t2 = case
    detail = FlowDetail.from_orders(orders, floor)
    low, high = detail.split(t1), detail.split(t2)
    event("a threshold equals an order" if {t1, t2} & {o.notional_cents for o in orders} else "no exact tie")
    event("whale volume moved to retail" if sides(low) != sides(high) else "split unchanged")
    assert 0 <= high.whale_buy_cents <= low.whale_buy_cents
    assert 0 <= high.whale_sell_cents <= low.whale_sell_cents
    assert high.retail_buy_cents >= low.retail_buy_cents and high.retail_sell_cents >= low.retail_sell_cents
    # Hence the whale CVD at the higher threshold lies between minus the lower one's whale selling
    # and plus its whale buying: a rise can shrink either side, never grow one.
    assert -low.whale_sell_cents <= high.whale_cvd_cents <= low.whale_buy_cents


@PROPERTY
@given(flow())
def test_whale_plus_retail_is_the_same_at_every_threshold(case):
    orders, floor, t1, t2 = case
    detail = FlowDetail.from_orders(orders, floor)
    buy = sum(o.notional_cents for o in orders if o.taker_buy)
    sell = sum(o.notional_cents for o in orders if not o.taker_buy)
    for threshold in (t1, t2):
        split = detail.split(threshold)
        assert (split.whale_buy_cents + split.retail_buy_cents, split.whale_sell_cents + split.retail_sell_cents) == (
            buy,
            sell,
        )
        assert min(sides(split)) >= 0


@PROPERTY
@given(flow())
def test_the_stored_detail_replays_exactly_what_the_orders_say(case):
    """SPEC §5.2: a split from the stored detail (through JSON) equals the split from the orders."""
    orders, floor, t1, t2 = case
    stored = FlowDetail.from_json(FlowDetail.from_orders(orders, floor).to_json())
    for threshold in (t1, t2):
        assert sides(stored.split(threshold)) == direct_split(orders, threshold)


@PROPERTY
@given(st.lists(flow(), min_size=1, max_size=3), st.integers(0, 2))
def test_summed_minutes_split_as_the_whole_window_does(minutes, pick):
    """combine() of per-minute details (each with its own floor) splits like one detail of every
    order, at any threshold at or above the highest floor."""
    details = [FlowDetail.from_orders(orders, floor) for orders, floor, _, _ in minutes]
    every_order = [o for orders, *_ in minutes for o in orders]
    highest_floor = max(floor for _, floor, _, _ in minutes)
    combined = FlowDetail.combine(details)
    assert combined.floor_cents == highest_floor
    for threshold in minutes[pick % len(minutes)][2:]:
        threshold = max(threshold, highest_floor)
        assert sides(combined.split(threshold)) == direct_split(every_order, threshold)


@PROPERTY
@given(st.integers(1, 10**11))
def test_the_detail_floor_admits_every_optimizer_candidate(active_cents):
    """40% of the active threshold: at or below half the lowest candidate (-20%), never negative."""
    floor = detail_floor_cents(active_cents)
    assert 0 <= floor and 2 * floor <= active_cents * Decimal("0.8")


def test_whale_cvd_itself_can_change_sign_as_the_threshold_rises():
    """Why the property is stated per side: at $100k the two $120k sells outweigh the $150k buy;
    at $130k only the buy is whale. Whale CVD goes from -$90k to +$150k."""
    orders = [TakerOrder(0, 15_000_000, True, 0, 0)] + [TakerOrder(1, 12_000_000, False, 1, 1)] * 2
    detail = FlowDetail.from_orders(orders, 0)
    assert (detail.split(10_000_000).whale_cvd_cents, detail.split(13_000_000).whale_cvd_cents) == (
        -9_000_000,
        15_000_000,
    )


# --- The chain ------------------------------------------------------------------------------------


def stored(name: str, strategy: st.SearchStrategy) -> st.SearchStrategy:
    """A value of parameter `name` as the database stores it (validated against SPECS)."""
    return strategy.map(lambda v: validate_value(name, v))


def places(low: str, high: str, n: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(Decimal(low), Decimal(high), places=n).map(lambda d: d.normalize() if d else Decimal(0))


@st.composite
def chain_params(draw) -> Params:
    """Any values SPECS allows, with their boundaries; any non-empty guard order; sometimes a
    stored value that is unusable (the rule fails open)."""
    values = {
        "taker_min_share": draw(stored("taker_min_share", places("0", "0.5", 4))),
        "fear_greed_cutoff": draw(stored("fear_greed_cutoff", places("0", "100", 2))),
        "fear_greed_multiplier": draw(stored("fear_greed_multiplier", places("0.0001", "1", 4))),
        "guard_order": draw(st.permutations(GUARD_NAMES).flatmap(lambda p: st.sampled_from([p, p, p[:2], p[:1]]))),
    }
    values["guard_order"] = validate_value("guard_order", list(values["guard_order"]))
    broken = draw(st.lists(st.sampled_from(sorted(values)), max_size=1))
    return Params(
        {name: ParamValue(value, 2) for name, value in values.items()},
        {name: f"PARAMETER_INVALID ({name}: damaged)" for name in broken},
    )


def whale_flows() -> st.SearchStrategy[FlowSplit]:
    signed = st.one_of(st.just(0), heavy_tailed_cents(), heavy_tailed_cents().map(lambda c: -c))
    return st.tuples(signed, heavy_tailed_cents(), heavy_tailed_cents()).map(
        lambda t: FlowSplit(10_000_000, max(t[0], 0), max(-t[0], 0), t[1], t[2])
    )


@st.composite
def readings(draw, kind: str, values: st.SearchStrategy) -> Reading | None:
    """Fresh, exactly 2x TTL old, just past it, missing, or with a problem."""
    ttl = inputs.TTL_SECONDS[kind]
    age = draw(st.sampled_from([0, 10, 2 * ttl, 2 * ttl + 1]))
    state = draw(st.sampled_from(["usable"] * 6 + ["missing", "problem"]))
    if state == "missing":
        return None
    problem = "UNPARSEABLE" if state == "problem" else None
    return Reading(draw(values) if not problem else None, NOW - timedelta(seconds=age), ttl, "simulated", problem)


@st.composite
def chain_intel(draw, params: Params):
    share_bound = params.decimal("taker_min_share")
    shares = st.one_of(places("0", "1", 6), st.sampled_from([share_bound, 1 - share_bound, Decimal(0), Decimal(1)]))
    indexes = st.one_of(places("0", "100", 2), st.just(params.decimal("fear_greed_cutoff")))
    found = {
        inputs.TAKER_FLOW: draw(readings(inputs.TAKER_FLOW, shares)),
        inputs.WHALE_FLOW: draw(readings(inputs.WHALE_FLOW, whale_flows())),
        inputs.FEAR_GREED: draw(readings(inputs.FEAR_GREED, indexes)),
    }
    return Intel("BTCUSDT", {k: v for k, v in found.items() if v is not None})


def recording(steps, calls: list[str]):
    """The steps, each noting in `calls` when its rule is asked."""

    def wrap(step):
        def evaluate(sig, intel) -> GuardResult:
            calls.append(step.name)
            return step.evaluate(sig, intel)

        return replace(step, evaluate=evaluate)

    return [wrap(step) for step in steps]


@PROPERTY
@given(st.data())
def test_a_block_ends_the_chain(data):
    params = data.draw(chain_params())
    intel = data.draw(chain_intel(params))
    sig = signal(data.draw(st.sampled_from(["LONG", "SHORT"])), data.draw(st.sampled_from(["1000", "0.001", "3"])))
    calls: list[str] = []
    steps = recording(build_steps(params), calls)
    result = run_chain(steps, sig, intel, NOW)

    assert [r.guard for r in result.results] == [s.name for s in steps] == params.raw("guard_order")
    decisions = [r.decision for r in result.results]
    first_block = decisions.index(Decision.BLOCK) if Decision.BLOCK in decisions else None
    event(f"first block at step {first_block} of {len(decisions)}")
    if first_block is None:
        assert Decision.SKIPPED not in decisions
        assert result.allowed and result.blocked_by is None
        return
    assert decisions[first_block + 1 :] == [Decision.SKIPPED] * (len(decisions) - first_block - 1)
    assert Decision.SKIPPED not in decisions[:first_block]
    assert calls[-1] == steps[first_block].name  # no rule after the block was asked
    assert not result.allowed and result.blocked_by == steps[first_block].name
    assert result.reason == result.results[first_block].reason
    assert result.size_multiplier == 0 and result.final_size(sig.base_size) == 0


@PROPERTY
@given(st.data())
def test_the_size_multiplier_stays_in_its_bounds(data):
    params = data.draw(chain_params())
    intel = data.draw(chain_intel(params))
    sig = signal(data.draw(st.sampled_from(["LONG", "SHORT"])))
    result = run_chain(build_steps(params), sig, intel, NOW)
    if not result.allowed:
        assert result.size_multiplier == 0
    else:
        assert 0 < result.size_multiplier <= 1
        resizes = [r.size_multiplier for r in result.results if r.decision is Decision.RESIZE]
        assert result.size_multiplier == (resizes[0] if resizes else 1)  # Fear & Greed is the only resize
        assert 0 < result.final_size(sig.base_size) <= sig.base_size
    unsized = [r for r in result.results if r.decision not in (Decision.RESIZE, Decision.BLOCK)]
    assert all(r.size_multiplier == 1 for r in unsized)


def test_every_multiplier_spec_keeps_a_resize_inside_the_bounds():
    """The bound above rests on the parameter's range: above 0 (0 would be a block) and at most 1."""
    spec = SPECS["fear_greed_multiplier"]
    assert (spec.low, spec.low_exclusive, spec.high) == (Decimal(0), True, Decimal(1))


# --- Clusters -------------------------------------------------------------------------------------


@st.composite
def heatmaps(draw) -> Heatmap:
    """A heatmap of 1..3 columns over up to 25 price rows: cent prices from a narrow band so rows
    are neighbours and sometimes equal, USD amounts with a heavy tail and many ties."""
    rows = draw(st.integers(1, 25))
    cents = st.integers(9_900_000, 9_900_030)
    prices = st.lists(cents, min_size=rows, max_size=rows, unique=draw(st.booleans()))
    y_axis = tuple(Decimal(c) / 100 for c in draw(prices))
    columns = draw(st.integers(1, 3))
    usd = st.one_of(
        st.sampled_from([Decimal(0), Decimal(10), Decimal(500)]), heavy_tailed_cents(12).map(lambda c: Decimal(c) / 100)
    )
    cells = tuple(
        (x, y, draw(usd))
        for x in range(columns)
        for y in range(rows)
        if draw(st.integers(0, 4))  # about one cell in five absent
    )
    return Heatmap(y_axis, cells, tuple(range(columns)), Decimal("99000.00"))


def with_rows_reordered(heatmap: Heatmap, order: list[int]) -> Heatmap:
    """The same heatmap with its price rows listed in `order` (cells renumbered to match)."""
    new_index = {old: new for new, old in enumerate(order)}
    y_axis = tuple(heatmap.y_axis[old] for old in order)
    cells = tuple((x, new_index[y], usd) for x, y, usd in heatmap.cells)
    return Heatmap(y_axis, cells, heatmap.candle_times_ms, heatmap.current_price)


@PROPERTY
@given(st.data())
def test_cluster_selection_does_not_depend_on_the_order_of_the_rows(data):
    heatmap = data.draw(heatmaps())
    assume(heatmap.cells)
    reordered = with_rows_reordered(heatmap, data.draw(st.permutations(range(len(heatmap.y_axis)))))
    shuffled = replace(reordered, cells=tuple(data.draw(st.permutations(reordered.cells))))
    clusters = find_clusters(heatmap)
    event(f"{min(len(clusters), 3)}{'+' if len(clusters) > 3 else ''} clusters")
    event("a price listed twice" if len(set(heatmap.y_axis)) < len(heatmap.y_axis) else "distinct prices")
    assert find_clusters(shuffled) == clusters  # the same clusters, strongest first, ties alike
    price = data.draw(st.sampled_from([heatmap.current_price, *heatmap.y_axis]))
    assert top_clusters(find_clusters(shuffled), price) == top_clusters(clusters, price)
