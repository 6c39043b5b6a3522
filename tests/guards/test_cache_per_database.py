"""The cache belongs to its database (SPEC §2; issue 7), end to end in real processes.

Fetch into database A, point DATABASE_URL at a fresh database B inside the TTL: evaluations
on B answer 200 with the guards failing open, and `fetch_intel` on B fetches. The same for
two deployments sharing one Redis. Each step is its own `manage.py` process, as in production.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow
EVALUATE = """
import json
from django.contrib.auth import get_user_model
from django.test import Client
from guards.tokens import issue_token

user, _ = get_user_model().objects.get_or_create(username="bot")
token, _ = issue_token(user=user, name="e2e")
answers = []
for n in range(2):
    body = {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 100, "signal_id": f"e2e-{n}"}
    response = Client(SERVER_NAME="localhost").post(
        "/api/v1/signals/evaluate", json.dumps(body), content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    answers.append({"status": response.status_code, "body": response.content.decode()})
print(json.dumps(answers))
"""


def manage(*args: str, env: dict) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr[-3000:]}"
    return done.stdout


def deployment(database: Path, var_dir: Path, redis_url: str = "") -> dict:
    """The environment of one deployment: its database, its var/ (file cache) and maybe a Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "COINGLASS_", "REDIS_", "PYTEST"))}
    return env | {
        "DJANGO_SETTINGS_MODULE": "tradingbot.settings",
        "DJANGO_SECRET_KEY": "e2e-only-not-secret",
        "DATABASE_URL": f"sqlite:///{database}",
        "TRADINGBOT_VAR_DIR": str(var_dir),
        "MARKET_DATA": "simulated",
        "WATCHED_SYMBOLS": "BTCUSDT",
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
    }


def fetch_outcomes(env: dict) -> dict[str, str]:
    report = manage("fetch_intel", env=env)
    return {line.split()[1]: line.split()[2] for line in report.splitlines() if line.strip()}


def evaluations(env: dict) -> list[dict]:
    answers = json.loads(manage("shell", "-c", EVALUATE, env=env).strip().splitlines()[-1])
    assert [a["status"] for a in answers] == [200, 200], answers
    return [json.loads(a["body"]) for a in answers]


def switch_databases_inside_the_ttl(a: dict, b: dict) -> None:
    manage("migrate", "--no-input", env=a)
    manage("migrate", "--no-input", env=b)
    assert set(fetch_outcomes(a).values()) == {"ok"}

    for answer in evaluations(b):  # A's entries are still in the shared cache: B never sees them
        assert answer["allowed"] is True
        assert [(g["decision"], g["reason"].split(": ", 1)[1]) for g in answer["guards"]] == [
            ("fail_open", "MISSING")
        ] * 3

    fetched = fetch_outcomes(b)  # B holds nothing yet: every input is fetched, none "cached"
    assert set(fetched.values()) == {"ok"} and len(fetched) == 6

    assert {g["decision"] for answer in evaluations(a) for g in answer["guards"]} <= {
        "allow",
        "block",
        "resize",
        "skipped",
    }
    assert set(fetch_outcomes(a).values()) == {"cached"}  # A's own inputs are still fresh in A


def test_fresh_database_sharing_the_file_cache(tmp_path):
    var_dir = tmp_path / "var"  # one var/: one file cache for both databases
    a = deployment(tmp_path / "a.sqlite3", var_dir)
    b = deployment(tmp_path / "b.sqlite3", var_dir)
    switch_databases_inside_the_ttl(a, b)
    assert any((var_dir / "cache").iterdir())  # the cache really was shared


def test_two_deployments_sharing_one_redis(tmp_path, redis_url):
    a = deployment(tmp_path / "a.sqlite3", tmp_path / "var-a", redis_url)
    b = deployment(tmp_path / "b.sqlite3", tmp_path / "var-b", redis_url)
    switch_databases_inside_the_ttl(a, b)
    import redis

    assert redis.Redis.from_url(redis_url).dbsize() > 0  # the cache really was in the shared Redis
    assert not (tmp_path / "var-a" / "cache").exists()
