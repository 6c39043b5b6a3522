"""get_market(): live clients when MARKET_DATA=live, else the seeded simulator (SPEC §2).

Both expose the same methods: `agg_trades`, `klines` (Binance shapes, parsed) and
`heatmap`, `fear_greed`, `taker_buy_sell`, `max_pain`, `subscription` (CoinGlass `data`).
"""

from __future__ import annotations

import time

from django.conf import settings

from guards.marketdata import simulated_coinglass as sim_cg
from guards.marketdata.binance import BinanceFuturesClient
from guards.marketdata.coinglass import CoinGlassClient
from guards.marketdata.simulator import SimulatedMarket


class LiveMarket:
    source = "live"
    plan_source = "coinglass"
    sources = {"whale_flow": "binance", "price_bars": "binance"}  # the rest come from CoinGlass

    def __init__(self):
        self.binance = BinanceFuturesClient(settings.BINANCE_FUTURES_BASE_URL)
        self.coinglass = CoinGlassClient(settings.COINGLASS_BASE_URL, settings.COINGLASS_API_KEY)

    def source_of(self, kind: str) -> str:
        return self.sources.get(kind, "coinglass")

    def __getattr__(self, name: str):
        if name in ("agg_trades", "klines"):
            return getattr(self.binance, name)
        if name in ("heatmap", "fear_greed", "taker_buy_sell", "max_pain", "subscription"):
            return getattr(self.coinglass, name)
        raise AttributeError(name)


class SimulatedFullMarket(SimulatedMarket):
    """The simulator, answering the CoinGlass calls with CoinGlass-shaped `data` too."""

    source = "simulated"
    plan_source = "simulated"

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

    def subscription(self):
        return {"level": "SIMULATED", "expire_time": int(time.time() * 1000) + 86_400_000, "expired": False}


def get_market():
    if settings.MARKET_DATA == "live":
        return LiveMarket()
    return SimulatedFullMarket(settings.SIMULATOR_SEED)
