"""Event names and log tags of SPEC §3, §4, §7 as choices, so a typo fails at import."""

from django.db import models

from guards.domain import inputs


class EventType(models.TextChoices):
    TAKER_AGGRESSION = "TAKER_AGGRESSION"
    WHALE_INTENT_FILTER = "WHALE_INTENT_FILTER"
    FEAR_GREED_MULTIPLIER = "FEAR_GREED_MULTIPLIER"
    GUARD_FAIL_OPEN = "GUARD_FAIL_OPEN"
    LIQ_MAGNET = "LIQ_MAGNET"
    MIN_HOLD = "MIN_HOLD"


class LogTag(models.TextChoices):
    WHALE_INTENT = "WHALE-INTENT"
    LIQ_MAGNET = "LIQ-MAGNET"
    FEAR_GREED = "FEAR-GREED"
    TAKER_AGGRESSION = "TAKER-AGGRESSION"
    HYPERPARAM = "HYPERPARAM"
    MARKET_DATA = "MARKET-DATA"


GUARD_LOG_TAGS = {
    EventType.TAKER_AGGRESSION: LogTag.TAKER_AGGRESSION,
    EventType.WHALE_INTENT_FILTER: LogTag.WHALE_INTENT,
    EventType.FEAR_GREED_MULTIPLIER: LogTag.FEAR_GREED,
}


class InputKind(models.TextChoices):
    WHALE_FLOW = inputs.WHALE_FLOW, "Whale and retail flow"
    LIQUIDATION = inputs.LIQUIDATION, "Liquidation heatmap"
    FEAR_GREED = inputs.FEAR_GREED, "Fear & Greed"
    TAKER_FLOW = inputs.TAKER_FLOW, "Taker buy/sell"
    MAX_PAIN = inputs.MAX_PAIN, "Options max pain"
    PRICE_BARS = inputs.PRICE_BARS, "Minute prices"


class DataOutcome(models.TextChoices):
    OK = "ok"
    FAILED = "failed"
    RATE_LIMITED = "rate_limited"
    STALE = "stale"
    NOT_IN_PLAN = "not_in_plan"
    CACHED = "cached"
