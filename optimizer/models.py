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
