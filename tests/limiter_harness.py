"""Run groups of limiter_worker.py processes against counting servers, all at once, and measure.

Shared by tests/test_limiter.py and bench/limiter_utilisation.py. A group is N OS processes
sharing one limiter (the environment decides which: REDIS_URL or TRADINGBOT_VAR_DIR) and one
CountingServer; groups are independent of each other. Every worker sets up first and reports
"ready"; then all get "go" together, so the measured run starts at the same instant for all.
"""

from __future__ import annotations

import json
import math
import os
import select
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.counting_server import CountingServer, max_calls_in_any_window, min_gap

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "tests" / "limiter_worker.py"
# Never inherited from the caller: each group states its own limiter and budgets.
_GROUP_VARS = (
    "REDIS_URL",
    "TRADINGBOT_VAR_DIR",
    "COINGLASS_MIN_INTERVAL_SECONDS",
    "COINGLASS_CALLS_PER_MINUTE",
    "BINANCE_WEIGHT_PER_MINUTE",
)


@dataclass
class Group:
    name: str
    env: dict[str, str]  # REDIS_URL or TRADINGBOT_VAR_DIR, and the budget variables
    spacing: float  # the min interval the group runs with (seconds; 0: none)
    per_minute: int  # calls per 60 s the group's budget allows (weight budget / weight)
    processes: int = 4
    source: str = "coinglass"
    weight: int = 1
    server: CountingServer = field(default_factory=CountingServer)
    acquired: dict[str, list[float]] = field(default_factory=dict)  # worker -> acquire() returns

    @property
    def arrivals(self) -> list[float]:
        return sorted(self.server.arrivals)

    @property
    def workers_seen(self) -> set[str]:
        return {r["worker"] for r in self.server.requests}


def worker_env(**group_vars: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GROUP_VARS}
    return {**env, "DJANGO_SETTINGS_MODULE": "tradingbot.settings_test", "PYTHONPATH": str(ROOT), **group_vars}


def run_groups(groups: list[Group], seconds: float, startup_timeout: float = 60.0) -> None:
    """Start every group's workers, wait until all are ready, start them together, collect."""
    procs = [(g, _spawn(g, seconds)) for g in groups for _ in range(g.processes)]
    try:
        deadline = time.monotonic() + startup_timeout
        for _, proc in procs:
            _wait_ready(proc, deadline)
        for _, proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for group, proc in procs:
            out, err = proc.communicate(timeout=seconds + 60)
            if proc.returncode != 0:
                raise RuntimeError(f"{group.name} worker failed ({proc.returncode}):\n{err[-3000:]}")
            report = json.loads(out.strip().splitlines()[-1])
            group.acquired[report["worker"]] = report["acquired"]
    finally:
        for _, proc in procs:
            if proc.poll() is None:
                proc.kill()
        for group in groups:
            group.server.stop()


def _spawn(group: Group, seconds: float) -> subprocess.Popen:
    args = [sys.executable, str(WORKER), group.server.url, str(seconds), group.source, "--weight", str(group.weight)]
    return subprocess.Popen(
        [*args, "--wait-for-go"],
        cwd=ROOT,
        env=group.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_ready(proc: subprocess.Popen, deadline: float) -> None:
    ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
    line = proc.stdout.readline() if ready else ""
    if line.strip() != "ready":
        proc.kill()
        raise RuntimeError(f"worker did not start: {line!r} {proc.stderr.read()[-3000:]}")


def allowed_calls(seconds: float, spacing: float, per_minute: int) -> int:
    """Most calls the tighter of the spacing and the sliding 60 s cap permits in `seconds`."""
    by_spacing = math.floor(seconds / spacing) + 1 if spacing > 0 else math.inf
    rest = seconds % 60
    in_rest = math.floor(rest / spacing) + 1 if spacing > 0 else per_minute
    by_cap = per_minute * math.floor(seconds / 60) + min(per_minute, in_rest)
    return int(min(by_spacing, by_cap))


def delays_ms(group: Group) -> list[float]:
    """Per call, server arrival minus acquire() return (ms): what the safety margin must cover.

    Both are CLOCK_MONOTONIC stamps of this machine; a worker's calls are serial on one
    keep-alive connection, so its n-th arrival is its n-th acquire."""
    by_worker: dict[str, list[float]] = {}
    for request in sorted(group.server.requests, key=lambda r: r["at"]):
        by_worker.setdefault(request["worker"], []).append(request["at"])
    return [
        (arrived - acquired) * 1000
        for worker, arrivals in by_worker.items()
        for arrived, acquired in zip(arrivals, group.acquired.get(worker, []), strict=False)
    ]


def summary(group: Group, seconds: float) -> dict:
    arrivals, delays = group.arrivals, delays_ms(group)
    allowed = allowed_calls(seconds, group.spacing, group.per_minute)
    return {
        "group": group.name,
        "calls": len(arrivals),
        "allowed": allowed,
        "utilisation": len(arrivals) / allowed,
        "min_gap": min_gap(arrivals),
        "mean_gap": (arrivals[-1] - arrivals[0]) / (len(arrivals) - 1) if len(arrivals) > 1 else math.nan,
        "max_in_60s": max_calls_in_any_window(arrivals),
        "workers": len(group.workers_seen),
        "delay_ms_median": statistics.median(delays) if delays else math.nan,
        "delay_ms_max": max(delays, default=math.nan),
    }


def format_summary(s: dict, processes: int, seconds: float) -> str:
    return (
        f"{s['group']}: {processes} processes, {seconds:.0f} s: {s['calls']} calls made / {s['allowed']} allowed"
        f" = {s['utilisation']:.1%} utilisation; min gap {s['min_gap']:.3f} s, mean gap {s['mean_gap']:.3f} s;"
        f" max in any 60 s {s['max_in_60s']};"
        f" {s['workers']} processes made calls; acquire->arrival delay median {s['delay_ms_median']:.2f} ms,"
        f" max {s['delay_ms_max']:.2f} ms"
    )
