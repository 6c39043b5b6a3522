"""How old a panel's data is, and whether the guards still trust it.

The verdict is the guards' own (`Intel.unusable`: missing, unparseable, not in the plan, or
older than twice its TTL, SPEC §3 fail-open); this module only shapes it for a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from guards.domain.types import Intel


@dataclass(frozen=True)
class Freshness:
    """The data's age on a panel; `problem` is why a guard would fail open on it (None: trusted)."""

    as_of: datetime | None
    age_seconds: int | None
    problem: str | None
    source: str = ""

    @property
    def trusted(self) -> bool:
        return self.problem is None

    @property
    def simulated(self) -> bool:
        return self.source == "simulated"


def freshness(intel: Intel, kind: str, now: datetime) -> Freshness:
    """The age of one input of `intel` at `now`, judged exactly as the guards judge it."""
    reading = intel.readings.get(kind)
    problem = intel.unusable((kind,), now)
    if reading is None:
        return Freshness(None, None, problem)
    as_of = reading.as_of
    age = int((now - as_of).total_seconds()) if as_of is not None else None
    return Freshness(as_of, age, _reason(problem, kind), reading.source)


def _reason(problem: str | None, kind: str) -> str | None:
    """The guards' reason code without the input-name prefix (the panel already names the input)."""
    if problem is None:
        return None
    prefix = f"{kind}: "
    return problem[len(prefix) :] if problem.startswith(prefix) else problem


def moment(at: datetime | None, now: datetime, *, problem: str | None = None) -> Freshness:
    """The age of something that is not a guard input (a position's last answer, a fetch attempt)."""
    age = int((now - at).total_seconds()) if at is not None else None
    return Freshness(at, age, problem)
