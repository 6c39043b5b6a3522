"""Request and response schemas of the bot API (SPEC §3, §4, §5.1); they also make the OpenAPI."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    ValidationInfo,
    field_validator,
)
from pydantic_core import CoreSchema

from guards.domain.hold import HeldPosition
from guards.domain.pairs import normalise_pair
from guards.domain.types import ClosedTrade, Decision, Direction, HoldReason, Signal

# The rules below are published in the OpenAPI document as JSON Schema `pattern`s and applied by
# the server as they are written, so a client's validator and the server refuse the same inputs.
# They are plain ASCII regular expressions that ECMA-262 (JSON Schema) and Python read alike; the
# server applies them with re.fullmatch, so `$` is the end of the string, as in ECMA-262.
#
# Times a trading bot can mean are RFC 3339 (JSON Schema's date-time) with a timezone, written
# in the years 2009 to 2099: anything else is a typo, and near the calendar's ends an hour's hold
# would overflow. Seconds are required and never 60 (a leap second is not a datetime).
TIME_PATTERN = (
    r"^(2009|20[1-9][0-9])-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
# Ids and labels are text: control characters (NUL above all, which PostgreSQL cannot store) are
# refused rather than stored or turned into a database error.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1F\x7F]*$"
# A pair name as sent: any case, blanks around it. Blanks are spelled out because ECMA-262's `\s`
# and Python's differ (U+FEFF is one only for ECMA-262, U+001C and U+0085 only for Python).
SYMBOL_PATTERN = r"^[\t\n\x0B\f\r ]*[A-Za-z0-9]{2,20}[\t\n\x0B\f\r ]*$"
# Amounts fit the stored numeric(24, 8): 16 integer digits, 8 decimals. They are JSON numbers or
# plain decimal strings ("97000.5", as exchanges send prices); a string's bounds are in its pattern:
# |x| <= 10^15 for an amount, and 10^-8 <= x <= 10^15 for a price or size (a first significant
# digit within 8 decimals).
MAX_AMOUNT = 1e15
SMALLEST_AMOUNT = Decimal("0.00000001")
AMOUNT_STRING = r"^-?(?:0*[0-9]{1,15}(?:\.[0-9]+)?|0*1000000000000000(?:\.0+)?)$"
PRICE_STRING = r"^(?:0*[1-9][0-9]{0,14}(?:\.[0-9]+)?|0*1000000000000000(?:\.0+)?|0+\.0{0,7}[1-9][0-9]*)$"
TIME_DESCRIPTION = "RFC 3339 with a timezone, in the years 2009 to 2099"
TIME_HINT = "must be an RFC 3339 time with a timezone in the years 2009 to 2099, e.g. 2026-11-24T12:00:00Z"


@dataclass(frozen=True)
class DecimalString:
    """States in JSON Schema that a number may also be sent as a decimal string matching `regex`
    (which the validator enforces)."""

    regex: str

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return {"anyOf": [handler(core_schema), {"type": "string", "pattern": self.regex}]}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, bool):  # pydantic's lax mode would read true/false as 1/0
            raise ValueError("must be a number, not true/false")
        if isinstance(value, str) and not re.fullmatch(self.regex, value):
            raise ValueError(f'must be a number, or a decimal string such as "97000.5" matching {self.regex}')
        return value


@dataclass(frozen=True)
class Pattern:
    """States a rule that a validator of the field enforces as the `pattern` of its JSON Schema."""

    regex: str

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        schema = handler(core_schema)
        schema["pattern"] = self.regex
        return schema


def _time_as_sent(value: Any) -> Any:
    """The time as the schema states it: a string matching TIME_PATTERN (not a number, nor
    another ISO-8601 spelling pydantic would read); pydantic then checks the calendar."""
    if not isinstance(value, str) or not re.fullmatch(TIME_PATTERN, value):
        raise ValueError(TIME_HINT)
    return value


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)  # cannot overflow: the year is 2009..2099 and the offset < 24 h


def _printable(value: str) -> str:
    if not re.fullmatch(NO_CONTROL_CHARACTERS, value):
        raise ValueError("must not contain control characters")
    return value


# Constraints come before the validators, so they also reach the OpenAPI schema as JSON Schema.
AwareDatetime = Annotated[
    datetime,
    Field(description=TIME_DESCRIPTION),
    BeforeValidator(_time_as_sent),
    AfterValidator(_utc),
    Pattern(TIME_PATTERN),
]
_AMOUNT_STRING, _PRICE_STRING = DecimalString(AMOUNT_STRING), DecimalString(PRICE_STRING)
Amount = Annotated[
    float,
    Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, allow_inf_nan=False),
    BeforeValidator(_AMOUNT_STRING),
    _AMOUNT_STRING,
]
# A price or size must survive rounding to the stored 8 decimals: the smallest one is 1e-8.
Price = Annotated[
    float,
    Field(ge=float(SMALLEST_AMOUNT), le=MAX_AMOUNT, allow_inf_nan=False),
    BeforeValidator(_PRICE_STRING),
    _PRICE_STRING,
]
Text = Annotated[str, AfterValidator(_printable), Pattern(NO_CONTROL_CHARACTERS)]
Symbol = Annotated[str, Field(description="Exchange pair, e.g. BTCUSDT (any case)"), Pattern(SYMBOL_PATTERN)]


def exact_amount(value: float) -> Decimal:
    """A JSON amount as the exact Decimal it is stored as (8 decimals), so the first answer is the stored one."""
    return Decimal(str(value)).quantize(SMALLEST_AMOUNT)


class PairRequest(BaseModel):
    """A request naming an exchange pair: read in any case, stored upper-case. A plain pydantic model:
    a request body is JSON, never an ORM object, so Ninja's Schema wrapper (which validates a model
    that forbids extra fields twice) only cost time on every bot request (issue 11)."""

    symbol: Symbol

    @field_validator("symbol", mode="before")
    @classmethod
    def _symbol(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value  # pydantic names the type error
        if not re.fullmatch(SYMBOL_PATTERN, value):
            raise ValueError(f"must be an exchange pair name such as BTCUSDT (A-Z, 0-9), not {value!r}")
        return normalise_pair(value)  # exchanges read pair names in any case; we store them upper-case


class EvaluateIn(PairRequest):
    direction: Direction
    base_size: Price = Field(description="Position size before guards (USD)")
    strategy: Text | None = Field(default=None, max_length=64)
    price: Price | None = None
    signal_id: Text | None = Field(default=None, min_length=1, max_length=128)

    model_config = {"extra": "forbid", "strict": False}

    def to_signal(self) -> Signal:
        """The domain's signal: one shape from the request to the guards."""
        price = exact_amount(self.price) if self.price is not None else None
        return Signal(self.symbol, self.direction, exact_amount(self.base_size), self.strategy or "", price)


class GuardOut(Schema):
    guard: str
    decision: Decision
    reason: str
    data: dict[str, Any]


class ThresholdOut(Schema):
    value: Any
    version: int


class EvaluateOut(Schema):
    signal_id: str
    allowed: bool
    size_multiplier: float
    final_size: float
    blocked_by: str | None
    reason: str
    guards: list[GuardOut]
    thresholds: dict[str, ThresholdOut]


class ErrorOut(Schema):
    error: str
    field: str | None = None
    detail: list[dict[str, Any]] = []


class HealthOut(Schema):
    status: Literal["ok", "degraded"]
    database: str
    market_data: str
    time: str


class TradeIn(PairRequest):
    trade_id: Text = Field(min_length=1, max_length=128)
    signal_id: Text | None = Field(default=None, max_length=128)
    symbol: Symbol
    direction: Direction
    size: Price
    entry_price: Price
    exit_price: Price
    opened_at: AwareDatetime
    # JSON Schema cannot compare one field with another: this rule is stated in words only.
    closed_at: AwareDatetime = Field(description=f"{TIME_DESCRIPTION}; not before opened_at")
    pnl: Amount = Field(description="Realised P&L in USD")

    model_config = {"extra": "forbid"}

    def to_trade(self) -> ClosedTrade:
        """The domain's closed trade: one shape from the report to the trade row."""
        amounts = {k: exact_amount(getattr(self, k)) for k in ("size", "entry_price", "exit_price", "pnl")}
        return ClosedTrade(**{**self.model_dump(), **amounts, "direction": self.direction})

    @field_validator("closed_at")
    @classmethod
    def _closed_after_opened(cls, value: datetime, info: ValidationInfo) -> datetime:
        opened = info.data.get("opened_at")
        if opened is not None and value < opened:
            raise ValueError("must not be before opened_at")
        return value


class TradeOut(Schema):
    trade_id: str
    signal_id: str | None
    symbol: str
    direction: str
    size: float
    entry_price: float
    exit_price: float
    opened_at: datetime
    closed_at: datetime
    pnl: float
    received_at: datetime
    linked_to_signal: bool


class MinHoldIn(PairRequest):
    symbol: Symbol
    direction: Direction
    strategy: Text = Field(min_length=1, max_length=64)
    entry_price: Price
    current_price: Price
    opened_at: AwareDatetime
    position_id: Text | None = Field(default=None, min_length=1, max_length=128)

    model_config = {"extra": "forbid"}

    def to_position(self) -> HeldPosition:
        """The domain's held position: one shape from the question to the hold rules."""
        return HeldPosition(
            self.symbol,
            self.direction,
            self.strategy,
            exact_amount(self.entry_price),
            exact_amount(self.current_price),
            self.opened_at,
            self.position_id,
        )


class ClusterOut(Schema):
    price: float
    distance_pct: float
    side: Direction
    intensity: float


class MinHoldOut(Schema):
    min_hold_seconds: int
    reason: HoldReason
    hold_until: datetime
    cluster: ClusterOut | None
    protective_exits_allowed: bool = True
    note: str
    fail_open: list[str] = []
    sources: dict[str, str] = Field(default={}, description="input kind -> simulated, coinglass or binance")
