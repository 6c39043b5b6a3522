"""get_market(): the live clients when MARKET_DATA=live, else the seeded simulator (SPEC §2)."""

from __future__ import annotations

from django.conf import settings

from guards.marketdata.binance import BinanceFuturesClient
from guards.marketdata.simulator import SimulatedMarket


def get_market():
    """The trade/price source; `.source` names it on every snapshot and health record."""
    if settings.MARKET_DATA == "live":
        client = BinanceFuturesClient(settings.BINANCE_FUTURES_BASE_URL)
        client.source = "binance"
        return client
    market = SimulatedMarket(settings.SIMULATOR_SEED)
    market.source = "simulated"
    return market
