"""`simulate` for 7 days and two symbols (issue 9 target: <= 60 s on this machine).

    .venv/bin/python bench/simulate.py [--hours 168] [--database sqlite|postgres]

Runs `manage.py simulate --hours N --until <fixed>` in a fresh process on a throwaway database
(a SQLite file in a temporary folder, the embedded default; or bench_simulate_<pid> on the
PostgreSQL at BENCH_PG_URL, created and dropped), WATCHED_SYMBOLS=BTCUSDT,ETHUSDT, and prints
the wall time of the command (start-up included), the rows it wrote and the rate.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.throwaway import embedded_environment, throwaway_postgres  # noqa: E402

UNTIL = "2026-11-30T12:00:00+00:00"  # fixed: the same history on every run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=168)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-simulate-")
    with ExitStack() as stack:
        if args.database == "postgres":
            url = stack.enter_context(throwaway_postgres("simulate"))
        else:
            url = f"sqlite:///{folder}/bench.sqlite3"
        env = embedded_environment(
            "simulate", url, TRADINGBOT_VAR_DIR=folder, WATCHED_SYMBOLS="BTCUSDT,ETHUSDT", LOG_LEVEL="WARNING"
        )
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
        started = time.perf_counter()
        done = subprocess.run(
            [*manage, "simulate", "--hours", str(args.hours), "--until", UNTIL],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
    print(done.stdout.strip())
    print(
        f"\nsimulate --hours {args.hours}, 2 symbols, {args.database}: {elapsed:.1f} s wall (target <= 60 s for 168 h)"
    )
    print(f"  {args.hours / elapsed:.2f} simulated hours per second")


if __name__ == "__main__":
    main()
