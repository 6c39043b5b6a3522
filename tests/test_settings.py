"""Configuration from the environment (SPEC §8): a bad value stops start-up with one clear line
naming the variable, and settings that only work on one machine are warned about."""

import os
import subprocess
import sys

import pytest

from tests.limiter_harness import ROOT

OUR_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "COINGLASS_API_KEY",
    "COINGLASS_API_KEY_FILE",
    "MARKET_DATA",
    "WATCHED_SYMBOLS",
    "DJANGO_SECRET_KEY",
    "ALLOWED_HOSTS",
    "LOG_LEVEL",
    "COINGLASS_BASE_URL",
    "BINANCE_FUTURES_BASE_URL",
    "BINANCE_WEIGHT_PER_MINUTE",
)


def run_clean(tmp_path, *argv: str, **env) -> subprocess.CompletedProcess:
    """`python *argv` in the project with none of our variables set but `env`, as on a fresh machine."""
    clean = {k: v for k, v in os.environ.items() if k not in OUR_VARIABLES and k != "DJANGO_SETTINGS_MODULE"}
    clean |= {"TRADINGBOT_VAR_DIR": str(tmp_path), **env}
    return subprocess.run([sys.executable, *argv], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def manage_check(tmp_path, **env) -> subprocess.CompletedProcess:
    return run_clean(tmp_path, "manage.py", "check", **env)


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("REDIS_URL", "localhost:6379", "REDIS_URL must be a URL starting with redis://"),
        ("WATCHED_SYMBOLS", "BTCUSDT,FOO!!", "WATCHED_SYMBOLS: 'FOO!!' is not an exchange pair name"),
        ("WATCHED_SYMBOLS", ",", "WATCHED_SYMBOLS must name at least one pair"),
        ("COINGLASS_API_KEY_FILE", "/nonexistent/key", "COINGLASS_API_KEY_FILE='/nonexistent/key' cannot be read"),
        ("DATABASE_URL", "bogus", "DATABASE_URL must be a URL such as postgres://"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL"),
        ("ALLOWED_HOSTS", " , ", "ALLOWED_HOSTS is empty"),
        ("COINGLASS_BASE_URL", "open-api-v4.coinglass.com", "COINGLASS_BASE_URL must be a URL starting with https://"),
        ("MARKET_DATA", "bogus", "MARKET_DATA must be 'live' or 'simulated'"),
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG must be true or false"),
    ],
)
def test_bad_variable_stops_start_up_with_one_clear_line(tmp_path, name, value, message):
    done = manage_check(tmp_path, **{name: value})
    assert done.returncode != 0
    line = done.stderr.strip()
    assert line.startswith("Configuration error: ") and "\n" not in line  # one line, no traceback
    assert message in line


def test_the_embedded_default_has_no_warnings(tmp_path):
    done = manage_check(tmp_path)
    assert done.returncode == 0 and "no issues" in done.stdout, done.stderr


def test_live_market_without_a_coinglass_key_is_warned_about(tmp_path):
    done = manage_check(tmp_path, MARKET_DATA="live")
    assert done.returncode == 0 and "tradingbot.W002" in done.stderr


def test_shared_database_without_a_shared_secret_key_is_warned_about(tmp_path):
    done = manage_check(tmp_path, REDIS_URL="redis://127.0.0.1:6379/15")
    assert "tradingbot.W001" in done.stderr
    assert (
        "tradingbot.W001"
        not in manage_check(tmp_path, REDIS_URL="redis://127.0.0.1:6379/15", DJANGO_SECRET_KEY="x" * 50).stderr
    )


def test_watched_symbols_are_read_upper_case(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings; print(settings.WATCHED_SYMBOLS)",
        ],
        cwd=ROOT,
        env={**os.environ, "TRADINGBOT_VAR_DIR": str(tmp_path), "WATCHED_SYMBOLS": " btcusdt, ethusdt,BTCUSDT"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip().splitlines()[-1] == "['BTCUSDT', 'ETHUSDT']"


def test_a_budget_smaller_than_one_call_stops_commands(tmp_path):
    done = manage_check(tmp_path, BINANCE_WEIGHT_PER_MINUTE="10")
    assert done.returncode != 0 and "tradingbot.E001" in done.stderr


def test_the_web_process_keeps_what_start_up_loaded_out_of_garbage_collections(tmp_path):
    """tradingbot/wsgi.py: a full collection inside a request would walk every module, model and
    URL pattern loaded at start-up again (~60 ms); frozen, they are never walked."""
    script = "import gc; import tradingbot.wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    done = run_clean(tmp_path, "-c", script)
    assert done.returncode == 0, done.stderr
    frozen, still_tracked = map(int, done.stdout.split())
    assert frozen > 50_000 and still_tracked < frozen / 10
