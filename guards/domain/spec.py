"""What a guard or rule declares about itself: its parameters (unit, range, default) and, for a
guard on signals, its contract with the chain. Plain Python; the chain, the parameter seeds,
the admin's typed fields, the event vocabulary and the log tags all derive from these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guards.domain.params import Params
    from guards.domain.types import GuardResult, Intel, Signal

NUMBER, INTEGER, CHOICE, GUARD_ORDER = "number", "integer", "choice", "guard_order"


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
            return _guard_order(value, self.choices)
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
            return "distinct guards, in the order they run: " + ", ".join(self.choices)
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


def _guard_order(value: Any, known: tuple[str, ...]) -> list[str]:
    if (
        not isinstance(value, list)
        or not value
        or any(not isinstance(g, str) or g not in known for g in value)
        or len(set(value)) != len(value)
    ):
        raise ValueError(f"must be a list of distinct guards from {', '.join(known)}")
    return list(value)


def minutes(name: str, label: str, default: int, help: str) -> ParameterSpec:
    """A hold length: whole minutes, at most a day."""
    return ParameterSpec(name, label, default, INTEGER, "minutes", Decimal(0), Decimal(1440), help=help)


def percent(name: str, label: str, default: int, help: str) -> ParameterSpec:
    """A distance in % of the price: above 0, at most 100, two decimals."""
    return ParameterSpec(name, label, default, NUMBER, "%", Decimal(0), Decimal(100), True, 2, help=help)


@dataclass(frozen=True)
class GuardContract:
    """A guard on signals (SPEC §3) as the chain knows it.

    `name` is also its event type; `needs` are input kinds (guards/domain/inputs.py), each with a
    TTL parameter; `parameters` are the tunables it reads from `Params` in `evaluate`;
    `default_position` places it in the default `guard_order` (None: off by default).
    """

    name: str
    log_tag: str
    needs: tuple[str, ...]
    parameters: tuple[ParameterSpec, ...]
    evaluate: Callable[[Signal, Intel, Params], GuardResult]
    default_position: int | None = None

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)
