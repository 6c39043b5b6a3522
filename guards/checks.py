"""System checks (`manage.py check`, and every command's start): configuration that works on one
machine but misbehaves in production is said out loud, not discovered later."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=False)
def secret_key_shared_by_every_machine(app_configs, **kwargs):
    shared_services = bool(settings.REDIS_URL) or settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if settings.SECRET_KEY_FROM_ENVIRONMENT or not shared_services:
        return []
    return [
        Warning(
            "DJANGO_SECRET_KEY is not set: each machine uses its own generated key from var/, so admin "
            "sessions break when requests reach another machine.",
            hint="Set DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) to the same value on every machine.",
            id="tradingbot.W001",
        )
    ]


@register()
def live_market_without_coinglass_key(app_configs, **kwargs):
    if settings.MARKET_DATA != "live" or settings.COINGLASS_API_KEY:
        return []
    return [
        Warning(
            "MARKET_DATA=live without COINGLASS_API_KEY: whale flow and prices come from Binance, but the "
            "CoinGlass inputs (heatmap, Fear & Greed, taker flow, max pain) are not fetched and their "
            "guards fail open with NOT_CONFIGURED.",
            hint="Set COINGLASS_API_KEY (or COINGLASS_API_KEY_FILE), or MARKET_DATA=simulated.",
            id="tradingbot.W002",
        )
    ]


@register()
def budgets_fit_the_largest_call(app_configs, **kwargs):
    """A budget smaller than one call could never let that call go: every fetch would fail."""
    from guards.marketdata.binance import AGG_TRADES_WEIGHT

    problems = []
    if settings.BINANCE_WEIGHT_PER_MINUTE < AGG_TRADES_WEIGHT:
        problems.append(
            Error(
                f"BINANCE_WEIGHT_PER_MINUTE={settings.BINANCE_WEIGHT_PER_MINUTE} is below one aggTrades page "
                f"(weight {AGG_TRADES_WEIGHT}): whale flow could never be fetched.",
                id="tradingbot.E001",
            )
        )
    if settings.COINGLASS_CALLS_PER_MINUTE < 1 or settings.COINGLASS_MIN_INTERVAL_SECONDS < 0:
        problems.append(
            Error(
                "COINGLASS_CALLS_PER_MINUTE must be at least 1 and COINGLASS_MIN_INTERVAL_SECONDS not negative.",
                id="tradingbot.E002",
            )
        )
    return problems
