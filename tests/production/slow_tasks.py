"""A task only the production test's workers load (`celery worker -I tests.production.slow_tasks`).

It runs the real whale-flow fetch (guards.fetch_input: aggTrades read from the TradeCursor,
minute buckets and the cursor written in one transaction), then, on its first run only, pauses
before returning. A worker killed in that pause has committed the fetch but never acknowledged
the task: the worst moment for a task that Celery delivers at least once. The test sees the task
run again and checks that no trade was counted twice. Each step is appended to `log_path`.
"""

import os
import time
from pathlib import Path

from celery import shared_task

from guards.domain import inputs
from guards.tasks import fetch_input


@shared_task(name="tests.fetch_then_pause", ignore_result=True)
def fetch_then_pause(log_path: str, pause_seconds: float) -> None:
    log = Path(log_path)
    first_run = not log.exists()
    _note(log, "start")
    report = fetch_input(kind=inputs.WHALE_FLOW, symbol="BTCUSDT", force=True)  # runs here, in this process
    _note(log, f"fetched {report['outcome']}")
    if first_run:
        time.sleep(pause_seconds)
    _note(log, "done")


def _note(log: Path, what: str) -> None:
    with log.open("a") as out:
        out.write(f"{os.getpid()} {what}\n")
