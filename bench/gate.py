"""Gate throughput: requests/s and p99 of POST /signals/evaluate beside a bare Django endpoint.

Runs gunicorn on PostgreSQL + Redis (the production shape) on 127.0.0.1 and drives it with
wrk (Debian package `wrk`) for a bounded time. Usage:

    .venv/bin/python bench/gate.py [--seconds 15] [--connections 16] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")


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
    env["BENCH_RUN"] = str(int(time.time()))
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
        env=env,
    )
    try:
        wait_until_up(args.port)
        rows = [
            ("bare Django /healthz", run_wrk(args, "/healthz", env)),
            ("POST /api/v1/signals/evaluate", run_wrk(args, "/api/v1/signals/evaluate", env, "bench/evaluate.lua")),
        ]
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(
        f"\nwrk {args.seconds}s, {args.connections} connections, gunicorn {args.workers} sync workers, "
        f"PostgreSQL + Redis cache, {os.cpu_count()} cores shared with wrk"
    )
    for name, (rps, p50, p99) in rows:
        print(f"{name:<32} {rps:>9.1f} req/s   p50 {p50:>8}   p99 {p99:>8}")


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
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


def run_wrk(args, path: str, env: dict, script: str | None = None) -> tuple[float, str, str]:
    cmd = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--latency"]
    cmd += ["-s", str(ROOT / script)] if script else []
    out = subprocess.run(
        [*cmd, f"http://127.0.0.1:{args.port}{path}"], env=env, capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx" in out:
        sys.exit(f"{path}: non-2xx answers during the run:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
    return rps, p50, p99


if __name__ == "__main__":
    main()
