"""Rows of the learning loop: guard effectiveness runs and their per-guard report rows."""

from __future__ import annotations

from django.db import models

from guards.models import MONEY


class EffectivenessRun(models.Model):
    """One effectiveness analysis (SPEC §5.3): the window it covered and when it ran."""

    window_start = models.DateTimeField()  # inclusive
    window_end = models.DateTimeField()  # exclusive
    ran_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-ran_at", "-id"]
        verbose_name = "effectiveness run"

    def __str__(self) -> str:
        return f"effectiveness {self.window_start:%Y-%m-%d %H:%M} to {self.window_end:%Y-%m-%d %H:%M} UTC"


class EffectivenessReport(models.Model):
    """One guard's activity over a run's window and what its blocks were worth (shadow P&L)."""

    run = models.ForeignKey(EffectivenessRun, on_delete=models.CASCADE, related_name="reports")
    guard = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField(default=0)  # the guards' default order, for the table
    evaluations = models.PositiveIntegerField()  # signals that reached the guard (skipped ones did not)
    blocks = models.PositiveIntegerField()
    resizes = models.PositiveIntegerField()
    fail_opens = models.PositiveIntegerField()
    blocks_with_outcome = models.PositiveIntegerField()
    blocks_without_outcome = models.PositiveIntegerField()
    losses_avoided = models.DecimalField(**MONEY)
    gains_missed = models.DecimalField(**MONEY)
    net_value = models.DecimalField(**MONEY)
    precision = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)  # 0..1

    class Meta:
        ordering = ["run", "position", "guard"]
        constraints = [models.UniqueConstraint(fields=["run", "guard"], name="uniq_effectiveness_run_guard")]
        verbose_name = "effectiveness report"

    def __str__(self) -> str:
        return f"{self.guard}: net {self.net_value} USD over {self.blocks} blocks"


class OptimizerRun(models.Model):
    """One optimizer run for one parameter (SPEC §5.4), stored whole: the window it replayed, the
    candidate table, the decision and the proposal it filed (if any)."""

    run_id = models.UUIDField(unique=True, editable=False)
    ran_at = models.DateTimeField(db_index=True)
    parameter = models.CharField(max_length=64)
    active_value = models.JSONField(null=True)
    active_version = models.PositiveIntegerField(null=True, blank=True)
    window = models.JSONField(default=dict)  # {from, to, trades, blocked_signals}
    candidates = models.JSONField(default=list)  # CandidateResult.to_json() rows, ascending by value
    best_value = models.JSONField(null=True, blank=True)
    improvement = models.DecimalField(**MONEY)
    proposal = models.ForeignKey(
        "guards.ParameterVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposal_version = models.PositiveIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    decisions = models.PositiveIntegerField(default=0)  # in the window
    compared = models.PositiveIntegerField(default=0)  # compared by every candidate
    unreplayable = models.PositiveIntegerField(default=0)  # most over the candidates
    unpriced = models.PositiveIntegerField(default=0)  # most over the candidates

    class Meta:
        ordering = ["-ran_at", "-id"]
        verbose_name = "optimizer run"

    def __str__(self) -> str:
        filed = f"proposed v{self.proposal_version}" if self.proposal_version else "no proposal"
        return f"{self.parameter} at {self.ran_at:%Y-%m-%d %H:%M} UTC: {filed}"
