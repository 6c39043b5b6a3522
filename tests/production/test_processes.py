"""The production set-up, whole (docs/operations.md, "The production test"): the Procfile's
processes (its release step, gunicorn, two Celery workers, two beats) on a throwaway PostgreSQL
database and Redis db 9, on simulated market data.

It sees a beat-driven fetch land, an evaluation answered over HTTP and recorded, one beat sending
while the other waits, a worker process killed (SIGKILL) after a whale-flow fetch committed but
before the task was acknowledged, the task run again, no trade counted twice, and the standby
beat taking over when the active one stops. Every process is killed in the end, the database
dropped and Redis db 9 flushed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import _need, free_port
from tests.limiter_harness import ROOT

pytestmark = pytest.mark.slow
BROKER = "redis://127.0.0.1:6379/9"  # never the suite's Redis databases
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
WHALE_ROW = "fetch whale_flow BTCUSDT"
HOLDS, STANDS_BY = "holds the schedule lock", "waits as a standby"
SENDS = f"Sending due task {WHALE_ROW}"


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


class Deployment:
    """The processes of one deployment, each in its own session so a kill reaches its children."""

    def __init__(self, tmp: Path, database: str):
        self.tmp, self.port, self.procs = tmp, free_port(), {}
        self.dsn = f"postgresql://postgres@127.0.0.1:5432/{database}"
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "TEST_"))}
        self.env = clean | {
            "DJANGO_SETTINGS_MODULE": "tradingbot.settings",
            "DATABASE_URL": self.dsn.replace("postgresql://", "postgres://"),
            "REDIS_URL": BROKER,
            "DJANGO_SECRET_KEY": "production-test-" + "x" * 40,
            "MARKET_DATA": "simulated",
            "WATCHED_SYMBOLS": "BTCUSDT",
            "TRADINGBOT_VAR_DIR": str(tmp / "var"),
            "PORT": str(self.port),
            "WEB_CONCURRENCY": "2",
            "CELERY_CONCURRENCY": "2",
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        }
        for name in ("COINGLASS_API_KEY", "COINGLASS_API_KEY_FILE", "ALLOWED_HOSTS", "RETENTION_DAYS"):
            self.env.pop(name, None)

    def run(self, command: str) -> str:
        done = subprocess.run(
            ["bash", "-c", command], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def start(self, name: str, command: str) -> None:
        log = open(self.tmp / f"{name}.log", "w")  # the process writes it until killed
        self.procs[name] = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        proc = self.procs[name]
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)

    def kill_all(self) -> None:
        for name in list(self.procs):
            self.kill(name)


def wait_for(what: str, check, timeout: float = 60.0, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def query(dsn: str, sql: str, *args) -> list[tuple]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        cursor = conn.execute(sql, args)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def deployment(tmp_path):
    _need(settings.POSTGRES_AVAILABLE, "PostgreSQL at 127.0.0.1:5432")
    _need(settings.REDIS_AVAILABLE, "Redis at 127.0.0.1:6379")
    import redis

    database = f"tradingbot_production_{os.getpid()}"
    query(ADMIN_DSN, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    query(ADMIN_DSN, f'CREATE DATABASE "{database}"')
    broker = redis.Redis.from_url(BROKER)
    broker.flushdb()
    deployment = Deployment(tmp_path, database)
    try:
        yield deployment
    finally:
        deployment.kill_all()
        broker.flushdb()
        query(ADMIN_DSN, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_the_procfile_processes_fetch_answer_survive_a_killed_worker_and_keep_one_beat(deployment):
    started = time.monotonic()
    processes = procfile()
    deployment.run(processes["release"])  # migrate (which installs the beat rows) and collectstatic
    every_10_s = query(
        deployment.dsn,
        "INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (10, 'seconds') RETURNING id",
    )[0][0]
    query(  # an operator's edit in the admin: this row every 10 s from now, so the test need not wait
        deployment.dsn,
        "UPDATE django_celery_beat_periodictask SET interval_id = %s, start_time = NULL WHERE name = %s",
        every_10_s,
        WHALE_ROW,
    )
    token = deployment.run("python manage.py create_api_token bot 2>/dev/null").strip()

    deployment.start("web", processes["web"])
    for n in (1, 2):
        deployment.start(f"worker{n}", f"{processes['worker']} -n w{n}@%h -I tests.production.slow_tasks")
    deployment.start("beat1", processes["beat"])
    wait_for("the first beat to take the lock", lambda: HOLDS in deployment.log("beat1"))
    deployment.start("beat2", processes["beat"])  # a second beat by mistake
    wait_for("the second beat to stand by", lambda: STANDS_BY in deployment.log("beat2"))

    # Beat sends the whale-flow fetch; a worker stores it.
    wait_for("a beat-driven whale-flow fetch", lambda: whale_snapshots(deployment) >= 1)

    # The bot asks over HTTP; the answer is recorded with the snapshot it used.
    wait_for("the web server", lambda: healthy(deployment.port), timeout=30)
    answer = evaluate(deployment.port, token, "production-1")
    assert answer["signal_id"] == "production-1" and answer["allowed"] in (True, False)
    [(snapshot_id, events)] = query(
        deployment.dsn,
        "SELECT e.whale_flow_snapshot_id, count(g.id) FROM guards_evaluation e "
        "JOIN guards_guardevent g ON g.evaluation_id = e.id WHERE e.signal_id = %s GROUP BY e.id",
        "production-1",
    )
    assert snapshot_id is not None and events == len(answer["guards"])

    # A worker process dies after the fetch committed, before the task was acknowledged.
    steps = deployment.tmp / "task.log"
    send_task("tests.fetch_then_pause", log_path=str(steps), pause_seconds=60)
    first = wait_for("the task's fetch", lambda: _pid_of(steps, "fetched"))
    os.kill(first, signal.SIGKILL)
    second = wait_for("the task to run again", lambda: _pid_of(steps, "done"), timeout=60)
    lines = steps.read_text().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["start", "fetched ok", "start", "fetched ok", "done"]
    assert first != second  # a new worker process ran it
    assert_no_trade_counted_twice(deployment)

    # One beat sent the schedule all along; when it stops, the standby takes over and goes on.
    assert SENDS in deployment.log("beat1") and SENDS not in deployment.log("beat2")
    deployment.kill("beat1", signal.SIGTERM)
    wait_for("the standby beat to take over", lambda: HOLDS in deployment.log("beat2"), timeout=30)
    wait_for("the new beat to send the fetch", lambda: SENDS in deployment.log("beat2"), timeout=30)
    assert time.monotonic() - started < 180


def whale_snapshots(deployment) -> int:
    return query(deployment.dsn, "SELECT count(*) FROM guards_marketsnapshot WHERE kind = 'whale_flow'")[0][0]


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def evaluate(port: int, token: str, signal_id: str) -> dict:
    body = {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 1000.0, "signal_id": signal_id}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/signals/evaluate",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return json.load(response)


def send_task(name: str, **kwargs) -> None:
    from celery import Celery

    with Celery("production-test", broker=BROKER) as sender:
        sender.send_task(name, kwargs=kwargs)


def _pid_of(log: Path, step: str) -> int | None:
    if not log.exists():
        return None
    found = [line.split()[0] for line in log.read_text().splitlines() if line.split(" ", 1)[1].startswith(step)]
    return int(found[-1]) if found else None


def assert_no_trade_counted_twice(deployment) -> None:
    """Every complete minute stored equals the simulator's own trades of that minute, grouped into
    taker orders once: a fetch repeated after the kill would have doubled them."""
    import psycopg

    from guards.domain.cvd import FlowDetail, group_taker_orders
    from guards.marketdata import market_model
    from guards.marketdata.simulator import ROWS_PER_MINUTE, SimulatedMarket

    with psycopg.connect(deployment.dsn) as conn:  # one snapshot of the cursor and its buckets
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        [(resume_from,)] = conn.execute("SELECT resume_from FROM guards_tradecursor WHERE symbol = 'BTCUSDT'")
        buckets = conn.execute(
            "SELECT minute_start, buy_total_cents, sell_total_cents, floor_cents, order_count "
            "FROM guards_whaleflowbucket WHERE symbol = 'BTCUSDT' ORDER BY minute_start"
        ).fetchall()
    market = SimulatedMarket(seed=settings.SIMULATOR_SEED)
    held_back_minute = resume_from // ROWS_PER_MINUTE  # its order is read again, whole, next time
    complete = [b for b in buckets if _sim_minute(b[0], market_model) < held_back_minute]
    assert len(complete) >= 30  # the window's first reading, then the fetches since
    for minute_start, buy, sell, floor, count in complete:
        orders = group_taker_orders(market._minute_rows("BTCUSDT", _sim_minute(minute_start, market_model)))
        expected = FlowDetail.from_orders(orders, floor)
        assert (buy, sell, count) == (expected.buy_total_cents, expected.sell_total_cents, len(orders)), minute_start
    first, last = _sim_minute(complete[0][0], market_model), _sim_minute(complete[-1][0], market_model)
    assert last - first + 1 == len(complete)  # no minute missing either


def _sim_minute(minute_start: datetime, market_model) -> int:
    return market_model.minute_index(int(minute_start.astimezone(UTC).timestamp() * 1000))
