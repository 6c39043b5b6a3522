"""Test settings: the real settings, pointed at PostgreSQL when it is there, made faster."""

import os
import socket
import tempfile


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


os.environ.setdefault("TRADINGBOT_VAR_DIR", tempfile.mkdtemp(prefix="tradingbot-test-"))
os.environ.setdefault("MARKET_DATA", "simulated")
POSTGRES_AVAILABLE = bool(os.environ.get("DATABASE_URL")) or _reachable("127.0.0.1", 5432)
if not os.environ.get("DATABASE_URL") and POSTGRES_AVAILABLE:
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/test"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REDIS_AVAILABLE = _reachable("127.0.0.1", 6379)

from tradingbot.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "KEY_FUNCTION": CACHE_KEY_FUNCTION}  # noqa: F405
}
HTTP_RETRIES = 1
# Never reach out: a test that forgets its fake server gets "connection refused" at once.
COINGLASS_BASE_URL = "http://127.0.0.1:9"
BINANCE_FUTURES_BASE_URL = "http://127.0.0.1:9"
# The limiter is real in every test; only its budgets are opened up, except in the limiter's
# own tests, which set the SPEC budgets explicitly.
if "COINGLASS_MIN_INTERVAL_SECONDS" not in os.environ:
    COINGLASS_MIN_INTERVAL_SECONDS = 0.0
if "COINGLASS_CALLS_PER_MINUTE" not in os.environ:
    COINGLASS_CALLS_PER_MINUTE = 100_000
if "BINANCE_WEIGHT_PER_MINUTE" not in os.environ:
    BINANCE_WEIGHT_PER_MINUTE = 10_000_000

# A test database of this run's own, so two suites on one PostgreSQL never drop each other's.
DATABASES["default"]["TEST"] = {"NAME": f"test_tradingbot_{os.getpid()}"}  # noqa: F405
