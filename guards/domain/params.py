"""Tunable parameters (SPEC §3, §4, §5.5): what each one means, its unit, range and default.

Versions live in the database; this module says what a value may be. Every value is stored
as a JSON number, a choice string or a list, never a number in quotes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from guards.domain import inputs
from guards.domain.cvd import LOWEST_CANDIDATE, detail_floor_cents, threshold_to_cents

WHALE_THRESHOLD = "whale_cvd_threshold_usd"
TAKER_WINDOWS = ("5m", "15m", "30m", "1h", "4h", "12h", "24h")
GUARD_NAMES = ("TAKER_AGGRESSION", "WHALE_INTENT_FILTER", "FEAR_GREED_MULTIPLIER")

NUMBER, INTEGER, CHOICE, GUARD_ORDER = "number", "integer", "choice", "guard_order"


def ttl_parameter(kind: str) -> str:
    """The versioned parameter holding an input's cache TTL (SPEC §2 table, §5.5)."""
    return f"{kind}_ttl_seconds"


@dataclass(frozen=True)
class ParameterSpec:
    """One tunable: the words an operator reads, and the values it may take."""

    name: str
    label: str
    default: Any
    kind: str = NUMBER
    unit: str = ""
    low: Decimal | None = None
    high: Decimal | None = None
    low_exclusive: bool = False
    places: int | None = None  # decimals allowed (NUMBER)
    choices: tuple[str, ...] = ()
    help: str = ""

    def validate(self, value: Any) -> Any:
        """The value as stored (a JSON number, a choice or a list), or ValueError saying why."""
        if self.kind == CHOICE:
            if not isinstance(value, str) or value not in self.choices:
                raise ValueError(f"must be one of {', '.join(self.choices)}")
            return value
        if self.kind == GUARD_ORDER:
            return _guard_order(value)
        return self._number(value)

    def _number(self, value: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise ValueError("must be a number")
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            raise ValueError("must be a finite number")
        if self.kind == INTEGER and number != number.to_integral_value():
            raise ValueError("must be a whole number")
        if self.low is not None and (number < self.low or (self.low_exclusive and number == self.low)):
            raise ValueError(f"must be {'above' if self.low_exclusive else 'at least'} {_grouped(self.low)}")
        if self.high is not None and number > self.high:
            raise ValueError(f"must be at most {_grouped(self.high)}")
        if self.places is not None and number.as_tuple().exponent < -self.places:  # type: ignore[operator]
            if number != number.quantize(Decimal(1).scaleb(-self.places)):
                raise ValueError(f"must have at most {self.places} decimals")
        if number == number.to_integral_value():
            return int(number)
        as_float = float(number)
        if Decimal(repr(as_float)) != number:
            raise ValueError("has too many digits")
        return as_float

    def allowed(self) -> str:
        """The allowed values in an operator's words, e.g. "above 0 and at most 1,000,000,000 USD"."""
        if self.kind == CHOICE:
            return "one of " + ", ".join(self.choices)
        if self.kind == GUARD_ORDER:
            return "distinct guards, in the order they run: " + ", ".join(GUARD_NAMES)
        low = f"{'above' if self.low_exclusive else 'at least'} {_grouped(self.low)}"
        steps = {INTEGER: " (whole numbers)", NUMBER: f" (up to {self.places} decimals)" if self.places else ""}
        return f"{low} and at most {_grouped(self.high)}{self._unit()}{steps[self.kind]}"

    def display(self, value: Any) -> str:
        """A stored value as an operator reads it: 100,000 USD, 45 minutes, A → B → C."""
        if value is None:
            return "—"
        if self.kind == GUARD_ORDER and isinstance(value, list):
            return " → ".join(str(v) for v in value)
        if self.kind in (NUMBER, INTEGER) and isinstance(value, (int, float)) and not isinstance(value, bool):
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
            if number.is_finite():
                return f"{_grouped(number)}{self._unit()}"
        return str(value)

    def _unit(self) -> str:
        return "" if not self.unit else self.unit if self.unit.startswith("%") else " " + self.unit


def _grouped(number: Decimal | None) -> str:
    return format(number, ",f") if number is not None else ""


def _guard_order(value: Any) -> list[str]:
    if (
        not isinstance(value, list)
        or not value
        or any(not isinstance(g, str) or g not in GUARD_NAMES for g in value)
        or len(set(value)) != len(value)
    ):
        raise ValueError(f"must be a list of distinct guards from {', '.join(GUARD_NAMES)}")
    return list(value)


def _minutes(name: str, label: str, default: int, help: str) -> ParameterSpec:
    return ParameterSpec(name, label, default, INTEGER, "minutes", Decimal(0), Decimal(1440), help=help)


def _ttl(kind: str, label: str) -> ParameterSpec:
    return ParameterSpec(
        ttl_parameter(kind),
        f"{label}: cache life",
        inputs.TTL_SECONDS[kind],
        INTEGER,
        "seconds",
        Decimal(60),
        Decimal(86400),
        help="How long a fetch is served from the cache and how often it is fetched; "
        "a guard stops trusting the data at twice this age.",
    )


_INPUT_LABELS = {
    inputs.WHALE_FLOW: "Whale and retail flow",
    inputs.LIQUIDATION: "Liquidation heatmap",
    inputs.FEAR_GREED: "Fear & Greed",
    inputs.TAKER_FLOW: "Taker buy/sell",
    inputs.MAX_PAIN: "Options max pain",
    inputs.PRICE_BARS: "Minute prices",
}

SPECS: dict[str, ParameterSpec] = {
    spec.name: spec
    for spec in (
        ParameterSpec(
            WHALE_THRESHOLD,
            "Whale threshold",
            100000,
            NUMBER,
            "USD",
            Decimal(1),
            Decimal(1_000_000_000),
            places=2,
            help="A taker order at or above this notional counts as a whale's.",
        ),
        ParameterSpec(
            "whale_window_minutes",
            "Whale flow window",
            60,
            INTEGER,
            "minutes",
            Decimal(1),
            Decimal(1440),
            help="How far back whale and retail CVD are summed.",
        ),
        ParameterSpec(
            "taker_window",
            "Taker flow window",
            "1h",
            CHOICE,
            choices=TAKER_WINDOWS,
            help="The range over which the taker buy share is measured.",
        ),
        ParameterSpec(
            "taker_min_share",
            "Taker minimum buy share",
            0.4,
            NUMBER,
            "",
            Decimal(0),
            Decimal("0.5"),  # above 0.5 the LONG band (< share) and the SHORT band (> 1 - share) overlap
            places=4,
            help="A LONG is blocked when the taker buy share is below this, a SHORT when it is above 1 minus this.",
        ),
        ParameterSpec(
            "fear_greed_cutoff",
            "Fear & Greed cut-off",
            80,
            NUMBER,
            "index points",
            Decimal(0),
            Decimal(100),
            places=2,
            help="Above this index value the size is cut by the multiplier.",
        ),
        ParameterSpec(
            "fear_greed_multiplier",
            "Fear & Greed size multiplier",
            0.6,
            NUMBER,
            "× size",
            Decimal(0),
            Decimal(1),
            low_exclusive=True,  # a size of 0 is a block, and this guard never blocks
            places=4,
            help="The size is multiplied by this when the index is above the cut-off.",
        ),
        ParameterSpec(
            "cluster_window_pct",
            "Liquidation cluster window",
            3,
            NUMBER,
            "%",
            Decimal(0),
            Decimal(100),
            low_exclusive=True,
            places=2,
            help="Only clusters within this distance of the price count.",
        ),
        _minutes("liq_magnet_hold_minutes", "Hold toward a liquidation cluster", 90, "TRUE_TREND moving to a cluster."),
        _minutes("max_pain_hold_minutes", "Hold when max pain is far", 75, "TRUE_TREND with max pain far ahead."),
        _minutes("true_trend_hold_minutes", "Standard TRUE_TREND hold", 45, "Every other TRUE_TREND position."),
        _minutes("default_min_hold_minutes", "Hold for other strategies", 0, "Strategies other than TRUE_TREND."),
        ParameterSpec(
            "max_pain_far_pct",
            "Max pain far distance",
            5,
            NUMBER,
            "%",
            Decimal(0),
            Decimal(100),
            low_exclusive=True,
            places=2,
            help="Max pain at least this far on the position's favourable side holds longer.",
        ),
        ParameterSpec(
            "guard_order",
            "Guard order",
            list(GUARD_NAMES),
            GUARD_ORDER,
            help="The guards that run on a signal, in order; the first block ends the chain.",
        ),
        *(_ttl(kind, _INPUT_LABELS[kind]) for kind in inputs.TTL_SECONDS),
    )
}

DEFAULTS: dict[str, Any] = {name: spec.default for name, spec in SPECS.items()}


@dataclass(frozen=True)
class ParamValue:
    value: Any
    version: int


class Params:
    """Active parameter values with their versions; missing names fall back to DEFAULTS (version 0).

    `problems` names the stored values that cannot be used, with a reason code
    (`PARAMETER_MISSING (name)`, `PARAMETER_INVALID (name: why)`): such a name reads as its
    default so nothing downstream raises, and whatever needs it fails open with the problem.
    """

    def __init__(self, active: Mapping[str, ParamValue], problems: Mapping[str, str] | None = None):
        self._active = dict(active)
        self.problems = dict(problems or {})

    def problem(self, *names: str) -> str | None:
        """The first problem among `names`, or None when every one of them is usable."""
        return next((self.problems[n] for n in names if n in self.problems), None)

    def raw(self, name: str) -> Any:
        found = self._active.get(name)
        return found.value if found and name not in self.problems else DEFAULTS[name]

    def version(self, name: str) -> int:
        found = self._active.get(name)
        return found.version if found else 0

    def decimal(self, name: str) -> Decimal:
        return Decimal(str(self.raw(name)))

    def integer(self, name: str) -> int:
        return int(self.raw(name))

    def ttl_seconds(self, kind: str) -> int:
        return self.integer(ttl_parameter(kind))

    def stamp(self, *names: str) -> dict[str, dict[str, Any]]:
        """{name: {"value", "version"}} as recorded on events and returned by the API; an unusable
        value is stamped as None with its problem."""
        return {
            n: {"value": None, "version": self.version(n), "problem": self.problems[n]}
            if n in self.problems
            else {"value": self.raw(n), "version": self.version(n)}
            for n in names
        }


def below_detail_floor(new_threshold_usd: Any, active_threshold_usd: Any) -> bool:
    """Flow stored under the active threshold cannot be split at the new one (cvd.detail_floor_cents):
    the Whale Intent Filter fails open until the window is read again (docs/decisions.md)."""
    return _cents(new_threshold_usd) < detail_floor_cents(_cents(active_threshold_usd))


def below_replay_floor(new_threshold_usd: Any, active_threshold_usd: Any) -> bool:
    """The optimizer's lowest candidate for the new threshold falls under the stored detail: the
    guard works, but those minutes cannot be replayed there (SPEC §5.2, §5.4)."""
    lowest_candidate = Decimal(_cents(new_threshold_usd)) * LOWEST_CANDIDATE
    return lowest_candidate < detail_floor_cents(_cents(active_threshold_usd))


def _cents(usd: Any) -> int:
    return threshold_to_cents(Decimal(str(usd)))


def validate_value(name: str, value: Any) -> Any:
    """The value normalised for storage, or ValueError saying what is wrong (SPEC §5.5).

    Any JSON value (or Decimal) is answered, never with another exception: stored rows are
    checked with it too, and a damaged one must not take the gate down."""
    if name not in SPECS:
        raise ValueError(f"unknown parameter {name!r}")
    try:
        return SPECS[name].validate(value)
    except (ArithmeticError, InvalidOperation, TypeError, OverflowError):
        raise ValueError("must be a number") from None
