"""Test settings: the real settings, pointed at PostgreSQL when it is there, made faster.

DATABASE_URL, when set, is the database the suite runs on: `DATABASE_URL=sqlite://` runs it on
a SQLite file database of this run's own even where PostgreSQL is reachable (bin/test's second
pass); the race and lock tests, which need PostgreSQL, then skip (`require_postgres`)."""

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
DATABASE_CHOSEN = bool(os.environ.get("DATABASE_URL"))  # chosen by the caller, not found here
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

# Tests see every write at once, from any process; the gate's memory has tests of its own.
if "GATE_REMEMBER_SECONDS" not in os.environ:
    GATE_REMEMBER_SECONDS = 0.0

# A test database of this run's own, so two suites on one PostgreSQL never drop each other's.
# On SQLite it is a WAL file, as the embedded default's is: an in-memory database locks whole
# tables between connections and fails at once instead of waiting, so a test whose worker thread
# writes while the test reads would fail by chance.
if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"test_tradingbot_{os.getpid()}"}  # noqa: F405
elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_tradingbot_{os.getpid()}.sqlite3")}  # noqa: F405
