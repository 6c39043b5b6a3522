"""get_market(): live clients when MARKET_DATA=live, else the seeded simulator (SPEC §2).

Both implement `MarketData`: `agg_trades`, `klines` (Binance shapes, parsed) and `heatmap`,
`fear_greed`, `taker_buy_sell`, `max_pain`, `subscription` (CoinGlass `data`).
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from django.conf import settings

from guards.domain.cvd import AggTrade
from guards.domain.prices import Bar
from guards.marketdata import simulated_coinglass as sim_cg
from guards.marketdata.binance import KLINES_LIMIT, BinanceFuturesClient
from guards.marketdata.coinglass import CoinGlassClient
from guards.marketdata.simulator import SimulatedMarket


class MarketData(Protocol):
    """Everything ingestion asks of a market, live or simulated, in the same shapes (SPEC §2)."""

    source: str  # "live" or "simulated"
    plan_source: str  # whose plan limits the calls: "coinglass", or "simulated"
    applied_max_limit: int | None  # the per-minute allowance this run already applied

    def source_of(self, kind: str) -> str:
        """Where an input comes from: binance, coinglass or simulated (labels every snapshot)."""
        ...

    def agg_trades(
        self, symbol: str, *, from_id: int | None = None, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[AggTrade]: ...

    def klines(self, symbol: str, *, start_ms: int, end_ms: int | None = None, limit: int = 1500) -> list[Bar]: ...

    def heatmap(self, coin: str, range_: str = "3d") -> Any: ...

    def fear_greed(self) -> Any: ...

    def taker_buy_sell(self, coin: str, range_: str) -> Any: ...

    def max_pain(self, coin: str, exchange: str = "Deribit") -> Any: ...

    def subscription(self) -> dict: ...

    def reported_max_limit(self) -> int | None:
        """The key's per-minute allowance the source last reported (API-KEY-MAX-LIMIT), if any."""
        ...


class LiveMarket:
    """Binance for whale flow and prices, CoinGlass for the rest."""

    source = "live"
    plan_source = "coinglass"
    sources = {"whale_flow": "binance", "price_bars": "binance"}  # the rest come from CoinGlass

    def __init__(self) -> None:
        self.binance = BinanceFuturesClient(settings.BINANCE_FUTURES_BASE_URL)
        self.coinglass = CoinGlassClient(settings.COINGLASS_BASE_URL, settings.COINGLASS_API_KEY)
        self.applied_max_limit: int | None = None

    def source_of(self, kind: str) -> str:
        return self.sources.get(kind, "coinglass")

    def agg_trades(
        self, symbol: str, *, from_id: int | None = None, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[AggTrade]:
        return self.binance.agg_trades(symbol, from_id=from_id, start_ms=start_ms, end_ms=end_ms)

    def klines(self, symbol: str, *, start_ms: int, end_ms: int | None = None, limit: int = KLINES_LIMIT) -> list[Bar]:
        return self.binance.klines(symbol, start_ms=start_ms, end_ms=end_ms, limit=limit)

    def heatmap(self, coin: str, range_: str = "3d") -> Any:
        return self.coinglass.heatmap(coin, range_)

    def fear_greed(self) -> Any:
        return self.coinglass.fear_greed()

    def taker_buy_sell(self, coin: str, range_: str) -> Any:
        return self.coinglass.taker_buy_sell(coin, range_)

    def max_pain(self, coin: str, exchange: str = "Deribit") -> Any:
        return self.coinglass.max_pain(coin, exchange)

    def subscription(self) -> dict:
        return self.coinglass.subscription()

    def reported_max_limit(self) -> int | None:
        return self.coinglass.last_max_limit


class SimulatedFullMarket(SimulatedMarket):
    """The simulator, answering the CoinGlass calls with CoinGlass-shaped `data` too."""

    source = "simulated"
    plan_source = "simulated"
    applied_max_limit: int | None = None

    def source_of(self, kind: str) -> str:
        return "simulated"

    def heatmap(self, coin: str, range_: str = "3d"):
        return sim_cg.heatmap(self.seed, f"{coin}USDT", self.clock_ms())

    def fear_greed(self):
        return sim_cg.fear_greed(self.seed, self.clock_ms())

    def taker_buy_sell(self, coin: str, range_: str):
        return sim_cg.taker_buy_sell(self.seed, f"{coin}USDT", self.clock_ms(), range_)

    def max_pain(self, coin: str, exchange: str = "Deribit"):
        return sim_cg.max_pain(self.seed, f"{coin}USDT", self.clock_ms())

    def subscription(self) -> dict:
        return {"level": "SIMULATED", "expire_time": int(time.time() * 1000) + 86_400_000, "expired": False}

    def reported_max_limit(self) -> int | None:
        return None


def get_market() -> MarketData:
    if settings.MARKET_DATA == "live":
        return LiveMarket()
    return SimulatedFullMarket(settings.SIMULATOR_SEED)
