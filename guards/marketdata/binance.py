"""Binance USDⓈ-M futures public market data: aggTrades and 1-minute klines (MARKETDATA.md)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import requests

from guards.domain.cvd import AggTrade
from guards.domain.prices import Bar, MalformedBars, parse_klines
from guards.marketdata import errors
from guards.marketdata.http import HttpAnswer, get_json, is_json, retry_after_seconds

SOURCE = "binance"
AGG_TRADES_WEIGHT = 20
AGG_TRADES_LIMIT = 1000
KLINES_LIMIT = 1500


def _klines_weight(limit: int) -> int:
    """Binance's published weight by `limit`: 1 (<100), 2 (<500), 5 (<=1000), 10 (more)."""
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


class BinanceFuturesClient:
    def __init__(self, base_url: str, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()

    def agg_trades(
        self, symbol: str, *, from_id: int | None = None, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[AggTrade]:
        """One page (<= 1000 rows) of aggregate trades, by `fromId` or by a time span under 1 h."""
        params: dict[str, Any] = {"symbol": symbol, "limit": AGG_TRADES_LIMIT}
        if from_id is not None:
            params["fromId"] = from_id
        else:
            params.update({k: v for k, v in (("startTime", start_ms), ("endTime", end_ms)) if v is not None})
        answer = self._get("/fapi/v1/aggTrades", params, AGG_TRADES_WEIGHT)
        return _parse_agg_trades(answer.body)

    def klines(self, symbol: str, *, start_ms: int, end_ms: int | None = None, limit: int = KLINES_LIMIT) -> list[Bar]:
        params: dict[str, Any] = {"symbol": symbol, "interval": "1m", "startTime": start_ms, "limit": limit}
        if end_ms is not None:
            params["endTime"] = end_ms
        answer = self._get("/fapi/v1/klines", params, _klines_weight(limit))
        try:
            return parse_klines(answer.body)
        except MalformedBars as exc:
            raise errors.Malformed(f"binance klines: {exc}") from None

    def _get(self, path: str, params: dict[str, Any], weight: int) -> HttpAnswer:
        return get_json(
            self.session, f"{self.base_url}{path}", source=SOURCE, params=params, weight=weight, classify=_classify
        )


def _classify(answer: HttpAnswer) -> None:
    """Raise the typed error for a non-success answer (429 back off, 418 banned, 4xx bad request)."""
    path = "binance"
    if answer.status in (418, 429):
        wait = retry_after_seconds(answer) or 60.0
        raise errors.RateLimited(f"{path}: HTTP {answer.status}", retry_after_seconds=wait)
    if answer.status == 404:
        raise errors.NotFound(f"{path}: HTTP 404")
    if answer.status in (401, 403):
        raise errors.AuthError(f"{path}: HTTP {answer.status}")
    if 400 <= answer.status < 500:
        msg = answer.body.get("msg", "") if isinstance(answer.body, dict) else ""
        raise errors.BadParameters(f"{path}: HTTP {answer.status} {msg}".strip())
    if not is_json(answer):
        raise errors.Malformed(f"{path}: answer is not JSON")


def _parse_agg_trades(body: Any) -> list[AggTrade]:
    if not isinstance(body, list):
        raise errors.Malformed("binance aggTrades: answer is not a list")
    try:
        return [
            AggTrade(int(r["a"]), Decimal(str(r["p"])), Decimal(str(r["q"])), int(r["T"]), _flag(r["m"])) for r in body
        ]
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise errors.Malformed(f"binance aggTrades: bad row ({type(exc).__name__}: {exc})") from None


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ValueError(f"m must be a boolean, not {value!r}")
