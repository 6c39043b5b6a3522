"""Request and response schemas of the bot API (SPEC §3, §4, §5.1); they also make the OpenAPI."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator
from ninja import Schema

SYMBOL = re.compile(r"^[A-Z0-9]{2,20}$")


class EvaluateIn(Schema):
    symbol: str = Field(description="Exchange pair, e.g. BTCUSDT")
    direction: Literal["LONG", "SHORT"]
    base_size: float = Field(gt=0, allow_inf_nan=False, description="Position size before guards (USD)")
    strategy: str | None = Field(default=None, max_length=64)
    price: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    signal_id: str | None = Field(default=None, min_length=1, max_length=128)

    model_config = {"extra": "forbid", "strict": False}

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: str) -> str:
        if not SYMBOL.match(value):
            raise ValueError("must be an exchange pair name such as BTCUSDT (A-Z, 0-9)")
        return value


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
