"""Tunable parameters (SPEC §3, §4, §5.5): the table of every one, assembled from what the guards
(guards/domain/rules), the hold rules (guards/domain/hold.py) and the inputs declare.

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
from guards.domain.hold import HOLD_PARAMETERS
from guards.domain.rules import CONTRACTS
from guards.domain.rules.taker_aggression import TAKER_WINDOWS
from guards.domain.rules.whale_intent import WHALE_THRESHOLD
from guards.domain.spec import GUARD_ORDER, INTEGER, ParameterSpec

__all__ = ["GUARD_NAMES", "SPECS", "DEFAULTS", "TAKER_WINDOWS", "WHALE_THRESHOLD", "Params", "ParamValue"]

GUARD_NAMES = tuple(c.name for c in CONTRACTS)
ORDER = "guard_order"


def ttl_parameter(kind: str) -> str:
    """The versioned parameter holding an input's cache TTL (SPEC §2 table, §5.5)."""
    return f"{kind}_ttl_seconds"


def _ttl(kind: str) -> ParameterSpec:
    return ParameterSpec(
        ttl_parameter(kind),
        f"{inputs.LABELS[kind]}: cache life",
        inputs.TTL_SECONDS[kind],
        INTEGER,
        "seconds",
        Decimal(60),
        Decimal(86400),
        help="How long a fetch is served from the cache and how often it is fetched; "
        "a guard stops trusting the data at twice this age.",
    )


_GUARD_ORDER = ParameterSpec(
    ORDER,
    "Guard order",
    [c.name for c in CONTRACTS if c.default_position is not None],
    GUARD_ORDER,
    choices=GUARD_NAMES,
    help="The guards that run on a signal, in order; the first block ends the chain.",
)

SPECS: dict[str, ParameterSpec] = {
    spec.name: spec
    for spec in (
        *(parameter for contract in CONTRACTS for parameter in contract.parameters),
        _GUARD_ORDER,
        *HOLD_PARAMETERS,
        *(_ttl(kind) for kind in inputs.TTL_SECONDS),
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
