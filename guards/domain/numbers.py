"""Coercion of market-data numbers: they arrive as numbers or strings depending on the endpoint."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any


class MalformedPayload(ValueError):
    """A market-data payload whose shape or values we cannot use."""


def to_decimal(value: Any, what: str) -> Decimal:
    """str, int or float to a finite Decimal; anything else (bool, None, 'abc', NaN) is malformed."""
    if type(value) is float and math.isfinite(value):  # most JSON numbers: the shortest text is repr
        return Decimal(repr(value))
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise MalformedPayload(f"{what} is not a number: {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise MalformedPayload(f"{what} is not a number: {value!r}") from None
    if not number.is_finite():
        raise MalformedPayload(f"{what} is not finite: {value!r}")
    return number


def to_millis(value: Any, what: str) -> int:
    """A timestamp in seconds or milliseconds, normalised to ms by magnitude (< 1e12 is seconds)."""
    number = to_decimal(value, what)
    return int(number * 1000) if number < Decimal("1e12") else int(number)


def coin_of(pair: str) -> str:
    """BTCUSDT -> BTC: CoinGlass coin-level endpoints want the base asset."""
    for quote in ("USDT", "USDC", "BUSD", "USD"):
        if pair.endswith(quote) and len(pair) > len(quote):
            return pair[: -len(quote)]
    return pair
