"""CoinGlass V4 client (MARKETDATA.md): CG-API-KEY, the envelope, typed failures, plan limits.

Success is HTTP 2xx with `code == "0"`; everything else becomes a typed error from
errors.py. The key is sent as a header only and never appears in a message or a repr.
"""

from __future__ import annotations

import math
import time
from typing import Any

import requests

from guards.marketdata import errors
from guards.marketdata.http import HttpAnswer, get_json, is_json, numeric_header, retry_after_seconds

SOURCE = "coinglass"
PATHS = {
    "subscription": "/api/user/account/subscription",
    "heatmap": "/api/futures/liquidation/aggregated-heatmap/model1",
    "fear_greed": "/api/index/fear-greed-history",
    "taker": "/api/futures/taker-buy-sell-volume/exchange-list",
    "max_pain": "/api/option/max-pain",
}
AUTH_MESSAGES = ("api key missing", "invalid api key", "api key")


class CoinGlassClient:
    def __init__(self, base_url: str, api_key: str, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.session = session or requests.Session()
        self.last_max_limit: int | None = None  # API-KEY-MAX-LIMIT: calls per minute for this key

    def __repr__(self) -> str:
        return f"CoinGlassClient({self.base_url!r}, api_key=<hidden>)"

    def subscription(self) -> dict:
        return self._data("subscription", {})

    def heatmap(self, coin: str, range_: str = "3d") -> Any:
        return self._data("heatmap", {"symbol": coin, "range": range_})

    def fear_greed(self) -> Any:
        return self._data("fear_greed", {})

    def taker_buy_sell(self, coin: str, range_: str) -> Any:
        return self._data("taker", {"symbol": coin, "range": range_})

    def max_pain(self, coin: str, exchange: str = "Deribit") -> Any:
        return self._data("max_pain", {"symbol": coin, "exchange": exchange})

    def _data(self, name: str, params: dict[str, Any]) -> Any:
        """GET one endpoint and return the envelope's `data`; empty data is EmptyData."""
        if not self._api_key:
            raise errors.NotConfigured("COINGLASS_API_KEY is not set: CoinGlass inputs are not fetched")
        answer = get_json(
            self.session,
            self.base_url + PATHS[name],
            source=SOURCE,
            params=params,
            headers={"CG-API-KEY": self._api_key, "accept": "application/json"},
            classify=_classify,
        )
        self.last_max_limit = _max_limit(answer) or self.last_max_limit
        data = answer.body.get("data")
        if data is None or data == [] or data == {}:
            raise errors.EmptyData(f"coinglass {PATHS[name]}: empty data")
        return data


def _classify(answer: HttpAnswer) -> None:
    """Map a CoinGlass answer to a typed error, or return for a success."""
    body = answer.body if is_json(answer) else None
    code = str(body.get("code", "")).strip() if isinstance(body, dict) else ""
    msg = str(body.get("msg", "")).strip() if isinstance(body, dict) else ""
    where = f"coinglass HTTP {answer.status}" + (f" code {code}" if code else "") + (f": {msg}" if msg else "")
    if answer.status == 429 or code in ("429", "50001"):
        raise errors.RateLimited(where, retry_after_seconds=retry_after_seconds(answer) or _to_next_minute())
    if "upgrade" in msg.lower() and (code == "401" or answer.status == 401):
        raise errors.PlanInsufficient(where)
    if answer.status in (401, 403) or code in ("401", "403", "30001") or any(m in msg.lower() for m in AUTH_MESSAGES):
        raise errors.AuthError(where)
    if answer.status == 404 or code == "404" or "not found" in msg.lower():
        raise errors.NotFound(where)
    if answer.status in (400, 405, 422) or code in ("400", "405", "422"):
        raise errors.BadParameters(where)
    if answer.status == 408 or code in ("408", "500") or answer.status >= 500:
        raise errors.UpstreamError(where)
    if not 200 <= answer.status < 300:
        raise errors.UpstreamError(where)
    if not isinstance(body, dict):
        raise errors.Malformed(f"coinglass HTTP {answer.status}: answer is not a JSON object")
    if code != "0":
        raise errors.ApiError(where) if code else errors.Malformed(f"coinglass HTTP {answer.status}: no code")


MAX_PLAN_CALLS_PER_MINUTE = 10_000  # above the largest plan (1200); a bigger header is not believed


def _max_limit(answer: HttpAnswer) -> int | None:
    """API-KEY-MAX-LIMIT when it is a believable per-minute allowance (a whole number 1..10,000)."""
    limit = numeric_header(answer, "API-KEY-MAX-LIMIT")
    if limit is None or not math.isfinite(limit) or limit != int(limit) or not 1 <= limit <= MAX_PLAN_CALLS_PER_MINUTE:
        return None
    return int(limit)


def _to_next_minute() -> float:
    """No documented Retry-After: wait for the next minute (MARKETDATA.md)."""
    now = time.time()
    return max(1.0, math.ceil(now / 60) * 60 - now)
