"""How long the decision history is kept (RETENTION_DAYS) and which windows must fit inside it.

Plain Python: settings.py validates with it before Django is set up.
"""

from __future__ import annotations

from datetime import datetime, timedelta

DEFAULT_RETENTION_DAYS = 90
DEFAULT_PRUNE_BATCH_SIZE = 5000  # rows per DELETE: short transactions that never hold the gate up


def cutoff(now: datetime, retention_days: int) -> datetime:
    """Rows older than this (strictly) are pruned; rows at or after it are kept."""
    return now - timedelta(days=retention_days)


def retention_problem(
    retention_days: int, effectiveness_window_days: int, window_name: str = "EFFECTIVENESS_WINDOW_DAYS"
) -> str | None:
    """Why these settings cannot work together, or None. A window reaching past the retention
    would read a history that is no longer there and report it as quiet. `window_name` is what the
    user set the window with (the setting, or a command's option)."""
    if retention_days < 1:
        return f"RETENTION_DAYS must be a whole number of days, at least 1, not {retention_days}"
    if effectiveness_window_days < 1:
        return f"{window_name} must be at least 1, not {effectiveness_window_days}"
    if effectiveness_window_days > retention_days:
        return (
            f"{window_name} ({effectiveness_window_days}) must not exceed RETENTION_DAYS "
            f"({retention_days}): older history is pruned"
        )
    return None
