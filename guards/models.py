"""Rows of the guard control plane: intel snapshots, decisions, trades, parameters, tokens."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from guards.domain.types import Direction, HoldReason
from guards.events import DataOutcome, InputKind

MONEY: dict[str, Any] = {"max_digits": 24, "decimal_places": 8}


# The domain's vocabularies, as field choices (one definition each: guards/domain/types.py).
DIRECTIONS = [(d.value, d.value.title()) for d in Direction]
HOLD_REASONS = [(r.value, r.value) for r in HoldReason]


class MarketSnapshot(models.Model):
    """One successful fetch of one input (SPEC §2): derived values plus what recomputes them."""

    symbol = models.CharField(max_length=20)  # "*" for market-wide inputs (Fear & Greed)
    kind = models.CharField(max_length=32, choices=InputKind.choices)
    source = models.CharField(max_length=16)  # binance, coinglass, simulated
    fetched_at = models.DateTimeField()
    derived = models.JSONField(default=dict)
    raw = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["symbol", "kind", "-fetched_at"])]
        ordering = ["-fetched_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.symbol} @ {self.fetched_at:%Y-%m-%d %H:%M:%S}"

    @property
    def simulated(self) -> bool:
        return self.source == "simulated"


class DataHealthEvent(models.Model):
    """Outcome of one fetch attempt of one input (SPEC §2): ok, failed with a reason, ..."""

    symbol = models.CharField(max_length=20)
    kind = models.CharField(max_length=32, choices=InputKind.choices)
    source = models.CharField(max_length=16)
    outcome = models.CharField(max_length=20, choices=DataOutcome.choices)
    reason_code = models.CharField(max_length=40, blank=True)
    detail = models.TextField(blank=True)
    http_calls = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["kind", "symbol", "-created_at"])]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.symbol} {self.outcome} {self.reason_code}"


class InputAvailability(models.Model):
    """An input the key's plan does not include: shown as such, re-checked only rarely (SPEC §2)."""

    kind = models.CharField(max_length=32, choices=InputKind.choices, unique=True)
    source = models.CharField(max_length=16)
    status = models.CharField(max_length=20, default="NOT_IN_PLAN")
    plan_required = models.CharField(max_length=20, blank=True)
    current_plan = models.CharField(max_length=20, blank=True)
    detected_at = models.DateTimeField()
    recheck_after = models.DateTimeField()

    class Meta:
        verbose_name = "input availability"
        verbose_name_plural = "input availability (not in plan)"

    def __str__(self) -> str:
        return f"{self.kind}: {self.status} (needs {self.plan_required or '?'})"


class SourcePlan(models.Model):
    """What a market-data source told us about the key: plan level and per-minute allowance."""

    source = models.CharField(max_length=16, unique=True)
    level = models.CharField(max_length=20, blank=True)
    calls_per_minute = models.PositiveIntegerField(null=True, blank=True)
    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.source}: {self.level or 'unknown'} ({self.calls_per_minute or '?'} / min)"


class WhaleFlowBucket(models.Model):
    """One minute of one symbol's taker orders: totals and every order at or above the floor.

    Exact whale/retail splits at any threshold >= floor_cents come from summing buckets
    (guards.domain.cvd.FlowDetail); raw aggTrades are never re-read (SPEC §5.2).
    """

    symbol = models.CharField(max_length=20)
    minute_start = models.DateTimeField()
    source = models.CharField(max_length=16)
    buy_total_cents = models.BigIntegerField(default=0)
    sell_total_cents = models.BigIntegerField(default=0)
    floor_cents = models.BigIntegerField()
    large_orders = models.JSONField(default=list)  # signed cents
    order_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["symbol", "minute_start"], name="uniq_flow_bucket")]
        ordering = ["symbol", "minute_start"]


class TradeCursor(models.Model):
    """Where incremental aggTrades reading resumes for a symbol (`fromId`)."""

    symbol = models.CharField(max_length=20, unique=True)
    resume_from = models.BigIntegerField()  # Binance: next aggTrade id (`fromId`)
    updated_at = models.DateTimeField()


class PriceBar(models.Model):
    """A 1-minute kline (SPEC §2 minute prices): current price and shadow outcomes."""

    symbol = models.CharField(max_length=20)
    open_time = models.DateTimeField()
    open = models.DecimalField(**MONEY)
    high = models.DecimalField(**MONEY)
    low = models.DecimalField(**MONEY)
    close = models.DecimalField(**MONEY)
    source = models.CharField(max_length=16)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["symbol", "open_time"], name="uniq_price_bar")]
        ordering = ["symbol", "open_time"]


class ParameterVersion(models.Model):
    """A versioned tunable (SPEC §5.5); exactly one ACTIVE version per parameter."""

    class Status(models.TextChoices):
        PROPOSED = "PROPOSED"
        ACTIVE = "ACTIVE"
        SUPERSEDED = "SUPERSEDED"
        REJECTED = "REJECTED"

    class Origin(models.TextChoices):
        SEED = "SEED", "Default"
        PERSON = "PERSON"
        OPTIMIZER = "OPTIMIZER"

    parameter = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    value = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED)
    origin = models.CharField(max_length=12, choices=Origin.choices, default=Origin.PERSON)
    reason = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    auto_approved = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["parameter", "version"], name="uniq_parameter_version"),
            models.UniqueConstraint(
                fields=["parameter"], condition=Q(status="ACTIVE"), name="one_active_version_per_parameter"
            ),
        ]
        permissions = [("approve_parameterversion", "Can approve or reject parameter versions")]
        ordering = ["parameter", "-version"]

    def __str__(self) -> str:
        return f"{self.parameter} v{self.version} = {self.value} ({self.status})"


class ParameterChange(models.Model):
    """Audit trail of parameter state changes: who, when, old value, new value, why (SPEC §5.5).

    Refused attempts are recorded too (APPROVAL_REFUSED, REJECTION_REFUSED), with why they were refused.
    """

    class Action(models.TextChoices):
        SEEDED = "SEEDED", "Seeded"
        PROPOSED = "PROPOSED", "Proposed"
        APPROVED = "APPROVED", "Approved"
        AUTO_APPROVED = "AUTO_APPROVED", "Approved automatically"
        REJECTED = "REJECTED", "Rejected"
        APPROVAL_REFUSED = "APPROVAL_REFUSED", "Approval refused"
        REJECTION_REFUSED = "REJECTION_REFUSED", "Rejection refused"

    parameter = models.CharField(max_length=64)
    version = models.ForeignKey(ParameterVersion, on_delete=models.PROTECT, related_name="changes")
    action = models.CharField(max_length=20, choices=Action.choices)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "parameter change"

    def __str__(self) -> str:
        who = self.actor.get_username() if self.actor is not None else "the system"
        when = f"{self.created_at:%Y-%m-%d %H:%M:%S} UTC" if self.created_at else "not saved"
        return f"{when}: {self.parameter} v{self.version.version} {self.get_action_display().lower()} by {who}"


class Evaluation(models.Model):
    """One evaluated signal and the exact answer given for it (SPEC §3)."""

    class ShadowStatus(models.TextChoices):
        """Where a blocked signal's shadow outcome stands (SPEC §5.2, optimizer/shadow.py)."""

        PENDING = "", "pending"
        COMPUTED = "computed", "computed"
        NO_PRICE_HISTORY = "no_price_history", "no price history"
        UNSIZED = "unsized", "size unknown"

    signal_id = models.CharField(max_length=128, unique=True)
    symbol = models.CharField(max_length=20)
    direction = models.CharField(max_length=5, choices=DIRECTIONS)
    strategy = models.CharField(max_length=64, blank=True)
    base_size = models.DecimalField(**MONEY)
    price = models.DecimalField(null=True, blank=True, **MONEY)
    allowed = models.BooleanField()
    size_multiplier = models.DecimalField(max_digits=12, decimal_places=6)
    final_size = models.DecimalField(**MONEY)
    blocked_by = models.CharField(max_length=40, blank=True)
    reason = models.TextField(blank=True)
    response = models.JSONField()  # the first answer, returned verbatim on a repeat
    # The whale-flow snapshot whose FlowDetail the filter used: replays any threshold exactly (SPEC §5.2).
    whale_flow_snapshot = models.ForeignKey(
        MarketSnapshot, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # What the chain read (guards.domain.chain.replay_record): replays the decision at other values.
    replay = models.JSONField(default=dict, blank=True)
    # A blocked signal's shadow outcome (SPEC §5.2): held one standard hold, after fees and slippage.
    shadow_status = models.CharField(max_length=20, blank=True, default="", choices=ShadowStatus.choices)
    shadow_size = models.DecimalField(null=True, blank=True, **MONEY)  # USD notional the chain would have taken
    shadow_entry_price = models.DecimalField(null=True, blank=True, **MONEY)
    shadow_exit_price = models.DecimalField(null=True, blank=True, **MONEY)
    shadow_pnl = models.DecimalField(null=True, blank=True, **MONEY)
    shadow_computed_at = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-evaluated_at"]
        indexes = [  # the shadow task's work list stays small however long the history grows
            models.Index(fields=["id"], condition=Q(allowed=False, shadow_status=""), name="evaluation_shadow_pending")
        ]

    def __str__(self) -> str:
        verdict = "allowed" if self.allowed else f"blocked by {self.blocked_by}"
        return f"{self.signal_id} {self.symbol} {self.direction} {verdict}"


class GuardEvent(models.Model):
    """One guard decision (or fail-open, or magnet hold) with its inputs and parameter versions."""

    # A guard's name or an EventType (guards.events.EVENT_TYPES); no frozen choices, so a new guard
    # needs no schema migration.
    event_type = models.CharField(max_length=40, db_index=True)
    guard = models.CharField(max_length=40)
    decision = models.CharField(max_length=12)
    reason = models.TextField(blank=True)
    symbol = models.CharField(max_length=20)
    evaluation = models.ForeignKey(Evaluation, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    position_id = models.CharField(max_length=128, blank=True)
    inputs = models.JSONField(default=dict)
    parameters = models.JSONField(default=dict)  # {name: {"value", "version"}}
    position = models.PositiveSmallIntegerField(default=0)  # order in the chain
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "position"]
        indexes = [models.Index(fields=["guard", "symbol", "decision", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.symbol} {self.decision}"


class Trade(models.Model):
    """A closed trade reported by the bot (SPEC §5.1)."""

    trade_id = models.CharField(max_length=128, unique=True)
    signal_id = models.CharField(max_length=128, blank=True)
    evaluation = models.ForeignKey(Evaluation, null=True, blank=True, on_delete=models.SET_NULL, related_name="trades")
    symbol = models.CharField(max_length=20)
    direction = models.CharField(max_length=5, choices=DIRECTIONS)
    size = models.DecimalField(**MONEY)
    entry_price = models.DecimalField(**MONEY)
    exit_price = models.DecimalField(**MONEY)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(db_index=True)
    pnl = models.DecimalField(**MONEY)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-closed_at"]

    def __str__(self) -> str:
        return f"{self.trade_id} {self.symbol} {self.direction} pnl {self.pnl}"


class Position(models.Model):
    """An open position tracked through min-hold calls until its trade is reported (SPEC §4)."""

    position_id = models.CharField(max_length=128, unique=True)
    symbol = models.CharField(max_length=20)
    direction = models.CharField(max_length=5, choices=DIRECTIONS)
    strategy = models.CharField(max_length=64, blank=True)
    entry_price = models.DecimalField(**MONEY)
    current_price = models.DecimalField(**MONEY)
    opened_at = models.DateTimeField()
    min_hold_seconds = models.PositiveIntegerField(default=0)
    hold_reason = models.CharField(max_length=20, blank=True)
    hold_until = models.DateTimeField(null=True, blank=True)
    cluster = models.JSONField(null=True, blank=True)
    is_open = models.BooleanField(default=True, db_index=True)
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.position_id} {self.symbol} {self.direction}"


class ApiToken(models.Model):
    """A bot API token; only its SHA-256 is stored, the token itself is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user}{', revoked' if self.revoked_at else ''})"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class DatabaseIdentity(models.Model):
    """Which database this is: one row with a random UUID, created when the database is migrated.

    The cache keys carry it (guards/cache_keys.py), so two databases, or two deployments
    sharing one Redis, never see each other's entries (SPEC §2).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)  # the single row
    uuid = models.UUIDField(unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "database identity"
        verbose_name_plural = "database identity"

    def __str__(self) -> str:
        return str(self.uuid)
