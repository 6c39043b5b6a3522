"""Request and response schemas of the bot API (SPEC §3, §4, §5.1); they also make the OpenAPI."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator

from guards.domain.pairs import PAIR_AS_SENT, normalise_pair

# Times a trading bot can mean: anything else is a typo, and near the calendar's ends an hour's
# hold would overflow. Amounts fit the stored numeric(24, 8): 16 integer digits, 8 decimals.
EARLIEST = datetime(2009, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
MAX_AMOUNT = 1e15
SMALLEST_AMOUNT = Decimal("0.00000001")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must be an ISO-8601 time with a timezone, e.g. 2026-11-24T12:00:00Z")
    try:
        utc = value.astimezone(timezone.utc)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00
        utc = None
    if utc is None or not EARLIEST < utc < LATEST:
        raise ValueError("must be a time between 2009 and 2100")
    return utc


def _printable(value: str) -> str:
    """Ids and labels are text: control characters (NUL above all, which PostgreSQL cannot store)
    are refused rather than stored or turned into a database error."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters")
    return value


def _number_not_bool(value: Any) -> Any:
    """JSON true/false is not an amount (pydantic's lax mode would read it as 1/0)."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    return value


# Constraints come before the validators, so they also reach the OpenAPI schema as JSON Schema.
AwareDatetime = Annotated[
    datetime, Field(description="ISO-8601 with a timezone, between 2009 and 2100"), AfterValidator(_aware)
]
Amount = Annotated[float, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, allow_inf_nan=False), BeforeValidator(_number_not_bool)]
# A price or size must survive rounding to the stored 8 decimals: the smallest one is 1e-8.
Price = Annotated[
    float, Field(ge=float(SMALLEST_AMOUNT), le=MAX_AMOUNT, allow_inf_nan=False), BeforeValidator(_number_not_bool)
]
Text = Annotated[str, AfterValidator(_printable)]
Symbol = Annotated[
    str,
    Field(pattern=PAIR_AS_SENT, description="Exchange pair, e.g. BTCUSDT (any case)"),
]


class EvaluateIn(Schema):
    symbol: Symbol
    direction: Literal["LONG", "SHORT"]
    base_size: Price = Field(description="Position size before guards (USD)")
    strategy: Text | None = Field(default=None, max_length=64)
    price: Price | None = None
    signal_id: Text | None = Field(default=None, min_length=1, max_length=128)

    model_config = {"extra": "forbid", "strict": False}

    @field_validator("symbol", mode="before")
    @classmethod
    def _symbol(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value  # pydantic names the type error
        try:
            return normalise_pair(value)  # exchanges read pair names in any case; we store them upper-case
        except ValueError:
            raise ValueError(f"must be an exchange pair name such as BTCUSDT (A-Z, 0-9), not {value!r}") from None


class GuardOut(Schema):
    guard: str
    decision: Literal["allow", "block", "resize", "fail_open", "skipped"]
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


class TradeIn(Schema):
    trade_id: Text = Field(min_length=1, max_length=128)
    signal_id: Text | None = Field(default=None, max_length=128)
    symbol: Symbol
    direction: Literal["LONG", "SHORT"]
    size: Price
    entry_price: Price
    exit_price: Price
    opened_at: AwareDatetime
    closed_at: AwareDatetime
    pnl: Amount = Field(description="Realised P&L in USD")

    model_config = {"extra": "forbid"}

    _symbol = field_validator("symbol", mode="before")(EvaluateIn._symbol.__func__)

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


class MinHoldIn(Schema):
    symbol: Symbol
    direction: Literal["LONG", "SHORT"]
    strategy: Text = Field(min_length=1, max_length=64)
    entry_price: Price
    current_price: Price
    opened_at: AwareDatetime
    position_id: Text | None = Field(default=None, min_length=1, max_length=128)

    model_config = {"extra": "forbid"}

    _symbol = field_validator("symbol", mode="before")(EvaluateIn._symbol.__func__)


class ClusterOut(Schema):
    price: float
    distance_pct: float
    side: Literal["SHORT", "LONG"]
    intensity: float


class MinHoldOut(Schema):
    min_hold_seconds: int
    reason: Literal["LIQ_CLUSTER", "MAX_PAIN_FAR", "TRUE_TREND", "DEFAULT"]
    hold_until: datetime
    cluster: ClusterOut | None
    protective_exits_allowed: bool = True
    note: str
    fail_open: list[str] = []
    sources: dict[str, str] = Field(default={}, description="input kind -> simulated, coinglass or binance")
