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

# What an operator reads for each input (admin, parameter table).
LABELS = {
    WHALE_FLOW: "Whale and retail flow",
    LIQUIDATION: "Liquidation heatmap",
    FEAR_GREED: "Fear & Greed",
    TAKER_FLOW: "Taker buy/sell",
    MAX_PAIN: "Options max pain",
    PRICE_BARS: "Minute prices",
}

# Fear & Greed is market-wide; every other input is per symbol.
MARKET_WIDE = frozenset({FEAR_GREED})
MARKET_WIDE_SYMBOL = "*"

ALL = tuple(TTL_SECONDS)

# Inputs whose age is the age of the data itself when that is older than the fetch: a whale-flow
# fetch that could not read all the way to the present (a backlog) describes the past, and
# minute prices are only as fresh as their newest bar. (Fear & Greed is a daily index and the
# heatmap's candle interval depends on plan and range: their fetch time is their age.)
AGED_BY_DATA_TIME = frozenset({WHALE_FLOW, PRICE_BARS})

# The smallest CoinGlass plan that includes each input (MARKETDATA.md "What each plan unlocks").
PLAN_REQUIRED = {
    LIQUIDATION: "PROFESSIONAL",
    FEAR_GREED: "HOBBYIST",
    TAKER_FLOW: "HOBBYIST",
    MAX_PAIN: "HOBBYIST",
}
COINGLASS_INPUTS = frozenset(PLAN_REQUIRED)
PLAN_CALLS_PER_MINUTE = {"HOBBYIST": 30, "STARTUP": 80, "STANDARD": 300, "PROFESSIONAL": 1200}
