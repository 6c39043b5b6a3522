"""The market inputs of SPEC §2: their kind names and cache TTLs."""

WHALE_FLOW = "whale_flow"
LIQUIDATION = "liquidation_heatmap"
FEAR_GREED = "fear_greed"
TAKER_FLOW = "taker_flow"
MAX_PAIN = "max_pain"
PRICE_BARS = "price_bars"

TTL_SECONDS = {
    WHALE_FLOW: 300,
    LIQUIDATION: 300,
    FEAR_GREED: 600,
    TAKER_FLOW: 300,
    MAX_PAIN: 300,
    PRICE_BARS: 300,
}

# Fear & Greed is market-wide; every other input is per symbol.
MARKET_WIDE = frozenset({FEAR_GREED})
MARKET_WIDE_SYMBOL = "*"

ALL = tuple(TTL_SECONDS)

# The smallest CoinGlass plan that includes each input (MARKETDATA.md "What each plan unlocks").
PLAN_REQUIRED = {
    LIQUIDATION: "PROFESSIONAL",
    FEAR_GREED: "HOBBYIST",
    TAKER_FLOW: "HOBBYIST",
    MAX_PAIN: "HOBBYIST",
}
PLAN_CALLS_PER_MINUTE = {"HOBBYIST": 30, "STARTUP": 80, "STANDARD": 300, "PROFESSIONAL": 1200}
