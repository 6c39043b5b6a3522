"""What the gate knows, remembered in each process for at most `GATE_REMEMBER_SECONDS` (issue 11).

A bot request needs the active parameters, the not-in-plan list and the latest snapshot of each
input for its symbol. They change every few seconds at most, while the bot may ask a thousand
times a second, and on this machine a cache round trip costs as much as the rest of the
decision. So the bot API keeps what it read per symbol for at most that long (1 s by default,
as a token is remembered): an approval, a revocation or a new snapshot counts in every process
within that second, and at once in the process that made it (it forgets here). The decision
records which snapshot and which parameter versions it used, so a replay stays exact.
"""

from __future__ import annotations

import time
from typing import Any

MAX_SYMBOLS = 1_000  # a handful of pairs in practice; never grows without bound
_known: dict[str, tuple[float, Any]] = {}


def recall(symbol: str) -> Any | None:
    found = _known.get(symbol)
    return found[1] if found is not None and found[0] > time.monotonic() else None


def remember(symbol: str, known: Any, seconds: float) -> None:
    if seconds <= 0:
        return
    if len(_known) >= MAX_SYMBOLS:
        _known.clear()
    _known[symbol] = (time.monotonic() + seconds, known)


def forget() -> None:
    """This process wrote something the gate reads (a snapshot, a parameter, the plan): read afresh."""
    _known.clear()
