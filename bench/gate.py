"""Gate throughput beside its two anchors, side by side in one run (issue 11).

Serves the product with gunicorn (sync workers) on PostgreSQL + Redis, the production shape, on
127.0.0.1, through a bench-only settings module (bench/gate_site.py) that adds two anchor
endpoints the product never has, and drives each with wrk (Debian package `wrk`), same body,
same server, one after the other:

- memory anchor: a bare Django JSON endpoint deciding in memory (the stack's limit);
- durable anchor: the same plus one round trip committing an evaluation row and 3 event rows
  in one statement (the limit for a decision stored before it is answered);
- POST /api/v1/signals/evaluate.

Prints requests/s, p50, p99 and the gate's ratios to both anchors. With --rounds N the three are
measured N times in turn and each figure is the median. Usage:

    .venv/bin/python bench/gate.py [--seconds 15] [--connections 8] [--threads 1] [--workers 2] [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
EVALUATE = "/api/v1/signals/evaluate"
ROWS = (
    ("memory anchor (bare Django JSON, decides in memory)", "/bench/anchor/memory"),
    ("durable anchor (+1 statement: evaluation + 3 events)", "/bench/anchor/durable"),
    ("POST /api/v1/signals/evaluate", EVALUATE),
)


def main() -> None:
    args = parse_args()
    env = bench_env()

    def manage(*argv: str) -> str:
        done = subprocess.run([PY, "manage.py", *argv], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        return done.stdout.strip()

    manage("migrate", "--noinput", "-v0")
    manage("fetch_intel", "--force")
    manage("shell", "-c", "from django.contrib.auth.models import User; User.objects.get_or_create(username='bench')")
    env["BENCH_TOKEN"] = manage("create_api_token", "bench")
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "tradingbot.wsgi",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "gate_site", "PYTHONPATH": str(ROOT / "bench")},
    )
    try:
        wait_until_up(args.port)
        for _, path in ROWS:  # warm both workers' imports, connections and caches; not counted
            run_wrk(args, path, env, seconds=2)
        runs: dict[str, list[tuple[float, ...]]] = {path: [] for _, path in ROWS}
        for _ in range(args.rounds):
            for _, path in ROWS:
                runs[path].append(run_wrk(args, path, env, seconds=args.seconds))
    finally:
        server.terminate()
        server.wait(timeout=20)
    figures = {path: tuple(statistics.median(r[i] for r in found) for i in range(5)) for path, found in runs.items()}
    print_table(args, figures)


def print_table(args, figures: dict[str, tuple[float, ...]]) -> None:
    print(
        f"\nwrk {args.threads} thread(s), {args.connections} connections, {args.seconds} s each"
        f"{f', median of {args.rounds} rounds' if args.rounds > 1 else ''}; gunicorn {args.workers} sync workers; "
        f"PostgreSQL + Redis on 127.0.0.1; {os.cpu_count()} cores shared with wrk"
    )
    print(f"{'endpoint':<54} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for name, path in ROWS:
        rps, p50, p99 = figures[path][:3]
        print(f"{name:<54} {rps:>9.1f} {p50:>8.2f} {p99:>8.2f}")
    gate = figures[EVALUATE]
    for name, path in ROWS[:2]:
        anchor = figures[path]
        print(
            f"gate / {name.split(' (')[0]:<15} throughput {gate[0] / anchor[0]:.2f}x   p99 {gate[2] / anchor[2]:.2f}x"
        )
    print("target (issue 11): throughput >= 0.80x the durable anchor, p99 <= 1.25x the durable anchor")
    print("\nCPU ms per request, from /proc over each run (the rest: wrk, Redis, the kernel's idle share)")
    for name, path in ROWS:
        web, postgres = figures[path][3:]
        print(f"  cpu {name.split(' (')[0]:<32} web workers {web:6.3f}   PostgreSQL {postgres:6.3f}")


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--port", type=int, default=8799)
    return parser.parse_args()


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/3")
    env.setdefault("TRADINGBOT_VAR_DIR", str(ROOT / "var" / "bench"))
    env["MARKET_DATA"] = "simulated"
    env["LOG_LEVEL"] = "WARNING"
    return env


def wait_until_up(port: int) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not come up")


def run_wrk(args, path: str, env: dict, *, seconds: int) -> tuple[float, float, float, float, float]:
    """(requests/s, p50 ms, p99 ms, CPU ms per request of the web workers, of PostgreSQL); every
    answer must be 2xx. A fresh run id per call keeps the signal_ids new (wrk's Lua random numbers
    repeat from one start to the next)."""
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--latency"]
    cmd += ["-s", str(ROOT / "bench" / "evaluate.lua"), f"http://127.0.0.1:{args.port}{path}"]
    run_env = {**env, "BENCH_PATH": path, "BENCH_RUN": f"{time.time_ns()}"}
    before = cpu_seconds()
    out = subprocess.run(cmd, env=run_env, capture_output=True, text=True, check=True).stdout
    used = {group: spent - before.get(group, 0.0) for group, spent in cpu_seconds().items()}
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit(f"{path}: errors during the run:\n{out}")
    rps = float(_found(r"Requests/sec:\s+([\d.]+)", out))
    served = int(_found(r"(\d+) requests in", out))
    per_request = [1000 * used.get(group, 0.0) / served for group in ("web", "postgres")]
    return rps, _ms(_found(r"^\s+50%\s+(\S+)", out)), _ms(_found(r"^\s+99%\s+(\S+)", out)), *per_request


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by the gunicorn processes ("web") and the PostgreSQL server's
    processes (Linux /proc; {} elsewhere): where each request's cost lands."""
    found: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes()
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        group = "web" if b"gunicorn" in command else "postgres" if b"postgres" in command else None
        if group:
            # utime + stime + cutime + cstime: a child that exits meanwhile (a PostgreSQL backend,
            # an autovacuum worker) moves its time into its parent's, so nothing is lost or negative
            found[group] = found.get(group, 0.0) + sum(int(ticks) for ticks in fields[11:15]) / tick
    return found


def _found(pattern: str, out: str) -> str:
    match = re.search(pattern, out, re.M)
    if match is None:
        sys.exit(f"unexpected wrk output:\n{out}")
    return match.group(1)


def _ms(text: str) -> float:
    """wrk's latency (`812.00us`, `4.61ms`, `1.02s`) in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


if __name__ == "__main__":
    main()
