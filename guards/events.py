"""Event names and log tags of SPEC §3, §4, §7: a guard's come from its contract, the rest are
choices here, so a typo fails at import."""

from django.db import models

from guards.domain import inputs
from guards.domain.rules import CONTRACTS


class EventType(models.TextChoices):
    """Events that are not one guard's decision; a guard's own event type is its name."""

    GUARD_FAIL_OPEN = "GUARD_FAIL_OPEN"
    LIQ_MAGNET = "LIQ_MAGNET"
    MIN_HOLD = "MIN_HOLD"


# Every event type a guard event may carry: the guards' names (their contracts) and the above.
EVENT_TYPES = (*(contract.name for contract in CONTRACTS), *EventType.values)


class LogTag(models.TextChoices):
    """Structured-log tags that are not one guard's (SPEC §7); a guard's tag is in its contract."""

    LIQ_MAGNET = "LIQ-MAGNET"
    HYPERPARAM = "HYPERPARAM"
    MARKET_DATA = "MARKET-DATA"
    RETENTION = "RETENTION"  # the daily prune of old history
    BEAT = "BEAT"  # which beat holds the schedule lock


GUARD_LOG_TAGS = {contract.name: contract.log_tag for contract in CONTRACTS}


class InputKind(models.TextChoices):
    WHALE_FLOW = inputs.WHALE_FLOW, inputs.LABELS[inputs.WHALE_FLOW]
    LIQUIDATION = inputs.LIQUIDATION, inputs.LABELS[inputs.LIQUIDATION]
    FEAR_GREED = inputs.FEAR_GREED, inputs.LABELS[inputs.FEAR_GREED]
    TAKER_FLOW = inputs.TAKER_FLOW, inputs.LABELS[inputs.TAKER_FLOW]
    MAX_PAIN = inputs.MAX_PAIN, inputs.LABELS[inputs.MAX_PAIN]
    PRICE_BARS = inputs.PRICE_BARS, inputs.LABELS[inputs.PRICE_BARS]


class DataOutcome(models.TextChoices):
    OK = "ok"
    FAILED = "failed"
    RATE_LIMITED = "rate_limited"
    STALE = "stale"
    NOT_IN_PLAN = "not_in_plan"
    CACHED = "cached"
