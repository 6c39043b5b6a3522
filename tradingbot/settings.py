"""Settings for the guard control plane, all from the environment (SPEC §8).

With nothing set this is the embedded default: SQLite, a filesystem Celery broker, a local
cache, a file-locked rate limiter and the seeded market simulator.
"""

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TRADINGBOT_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "")
    return [item.strip() for item in raw.split(",") if item.strip()] if raw else default


def env_secret(name: str, default: str = "") -> str:
    """A secret from NAME or from the file named by NAME_FILE (Docker/K8s secrets)."""
    if path := os.environ.get(f"{name}_FILE"):
        try:
            return Path(path).read_text().strip()
        except OSError as exc:  # the message names the file, never its content
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {exc.strerror}") from None
    return os.environ.get(name, default)


def env_url(name: str, default: str, schemes: tuple[str, ...]) -> str:
    """A URL whose scheme is one of `schemes`; anything else stops start-up with a clear message."""
    from urllib.parse import urlsplit

    raw = os.environ.get(name, default)
    if not raw:
        return raw
    parts = urlsplit(raw)
    if parts.scheme not in schemes or not (parts.netloc or parts.path):
        raise ImproperlyConfigured(f"{name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}")
    return raw


def env_symbols(name: str, default: list[str]) -> list[str]:
    """Exchange pair names, upper-cased (the API reads the bot's symbols by the same rule)."""
    from guards.domain.pairs import normalise_pair  # plain Python: safe before Django is set up

    try:
        symbols = [normalise_pair(s) for s in env_list(name, default)]
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from None
    if not symbols:
        raise ImproperlyConfigured(f"{name} must name at least one pair, e.g. BTCUSDT,ETHUSDT")
    return list(dict.fromkeys(symbols))


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_secret("DJANGO_SECRET_KEY")
SECRET_KEY_FROM_ENVIRONMENT = bool(SECRET_KEY)  # guards/checks.py warns when several machines would differ
if not SECRET_KEY:
    # Embedded default: a per-install key kept beside the SQLite file, never in code.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        from django.core.management.utils import get_random_secret_key

        _key_file.write_text(get_random_secret_key())
    SECRET_KEY = _key_file.read_text().strip()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is empty: name the host names this server answers to, e.g. localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "ninja",  # serves the API docs' Swagger UI from our static files, not a CDN (works offline)
    "django_htmx",
    "template_partials",  # one template per dashboard page, one named partial per panel
    "guards",
    "optimizer",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tradingbot.middleware.ApiJsonErrors",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "tradingbot.urls"
WSGI_APPLICATION = "tradingbot.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tradingbot.context_processors.market_data",
            ],
        },
    },
]

# --- Database: DATABASE_URL, else a SQLite file (WAL so web, worker and beat coexist) ---
_SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
if os.environ.get("DATABASE_URL"):
    try:
        DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
    except ValueError:
        raise ImproperlyConfigured("DATABASE_URL must be a URL such as postgres://user@host:5432/db") from None
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        DATABASES["default"]["OPTIONS"] = _SQLITE_OPTIONS
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "db.sqlite3"),
            "OPTIONS": _SQLITE_OPTIONS,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Redis: broker, cache and rate limiter; unset means the embedded equivalents ---
# Every cache key carries the database's identity: the cache belongs to its database (SPEC §2).
CACHE_KEY_FUNCTION = "guards.cache_keys.make_key"


def redis_cache(url: str) -> dict:
    """The production cache. A Redis outage must not take the gate down: a failed cache read is a
    miss, and the guards read the latest snapshot row from the database instead (logged)."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "tradingbot",
        "KEY_FUNCTION": CACHE_KEY_FUNCTION,
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 2,
            "SOCKET_TIMEOUT": 2,
            "IGNORE_EXCEPTIONS": True,
            "SERIALIZER": "guards.cache_serializer.DamageTolerantPickleSerializer",  # damage reads as a miss
        },
    }


DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "guards.cache"
REDIS_URL = env_url("REDIS_URL", "", ("redis", "rediss", "unix"))
if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
    CELERY_BROKER_URL = REDIS_URL
else:
    # File-based so every process (web, worker children, beat) sees the same intel cache.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "KEY_FUNCTION": CACHE_KEY_FUNCTION,
        }
    }
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # default is ./control in the working directory
        "store_processed": False,
    }
RATE_LIMIT_DIR = VAR_DIR / "ratelimit"

CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# However many beats are started, one sends the schedule; the others wait (tradingbot/beat.py).
CELERY_BEAT_SCHEDULER = "tradingbot.beat:SingleBeatScheduler"
# Delivery (docs/operations.md, "Workers"): a task is acknowledged when it has finished, so one
# whose worker dies mid-task (killed, out of memory, machine lost) runs again on another; every
# task is safe to run twice. One task reserved at a time, so a busy worker sits on none.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Market data (SPEC §2, §8) ---
COINGLASS_API_KEY = env_secret("COINGLASS_API_KEY")
COINGLASS_BASE_URL = env_url("COINGLASS_BASE_URL", "https://open-api-v4.coinglass.com", ("https", "http"))
BINANCE_FUTURES_BASE_URL = env_url("BINANCE_FUTURES_BASE_URL", "https://fapi.binance.com", ("https", "http"))
MARKET_DATA = os.environ.get("MARKET_DATA") or ("live" if COINGLASS_API_KEY else "simulated")
if MARKET_DATA not in {"live", "simulated"}:
    raise ImproperlyConfigured(f"MARKET_DATA must be 'live' or 'simulated', not {MARKET_DATA!r}")
SIMULATOR_SEED = env_int("SIMULATOR_SEED", 7)
WATCHED_SYMBOLS = env_symbols("WATCHED_SYMBOLS", ["BTCUSDT", "ETHUSDT"])

# Shared limiter budgets (SPEC §2): CoinGlass spacing and per-minute cap, Binance weight.
COINGLASS_MIN_INTERVAL_SECONDS = env_float("COINGLASS_MIN_INTERVAL_SECONDS", 2.5)
COINGLASS_CALLS_PER_MINUTE = env_int("COINGLASS_CALLS_PER_MINUTE", 30)
BINANCE_WEIGHT_PER_MINUTE = env_int("BINANCE_WEIGHT_PER_MINUTE", 1200)
HTTP_CONNECT_TIMEOUT_SECONDS = env_float("HTTP_CONNECT_TIMEOUT_SECONDS", 5.0)
HTTP_READ_TIMEOUT_SECONDS = env_float("HTTP_READ_TIMEOUT_SECONDS", 15.0)
HTTP_RETRIES = env_int("HTTP_RETRIES", 2)
# A fetch waits for the shared rate budget at most this long (a full 60 s window and change);
# a longer pause (Retry-After of a ban) fails the fetch as rate limited at once instead of
# holding a worker, and the next scheduled fetch tries again.
MARKET_DATA_MAX_WAIT_SECONDS = env_float("MARKET_DATA_MAX_WAIT_SECONDS", 75.0)
# Pages of aggTrades (weight 20 each) one fetch may read; a backlog continues next cycle.
BINANCE_AGGTRADES_MAX_PAGES = env_int("BINANCE_AGGTRADES_MAX_PAGES", 40)

AUTO_APPROVE_OPTIMIZER = env_bool("AUTO_APPROVE_OPTIMIZER", False)
# The optimizer proposes only when its best candidate changes at least this many decisions (SPEC §5.4).
OPTIMIZER_MIN_CHANGED_DECISIONS = env_int("OPTIMIZER_MIN_CHANGED_DECISIONS", 3)
# Shadow outcomes of blocked signals (SPEC §5.2, optimizer/shadow.py): costs per side, in basis
# points of each notional (Binance USD-M futures taker fee 0.04%), and how long after the exit
# a signal whose price history has not arrived yet waits before it is marked no_price_history.
SHADOW_FEE_BPS = env_float("SHADOW_FEE_BPS", 4.0)
SHADOW_SLIPPAGE_BPS = env_float("SHADOW_SLIPPAGE_BPS", 2.0)
SHADOW_PRICE_WAIT_MINUTES = env_int("SHADOW_PRICE_WAIT_MINUTES", 30)
SHADOW_BATCH_SIZE = env_int("SHADOW_BATCH_SIZE", 500)
# Guard effectiveness (SPEC §5.3, optimizer/effectiveness.py): the window each 4-hourly run covers.
EFFECTIVENESS_WINDOW_DAYS = env_int("EFFECTIVENESS_WINDOW_DAYS", 7)
# History older than this is pruned daily (guards/retention.py, docs/operations.md); the windows
# that read the history must fit inside it.
from guards.domain.retention import DEFAULT_PRUNE_BATCH_SIZE, DEFAULT_RETENTION_DAYS  # noqa: E402  (plain Python)

RETENTION_DAYS = env_int("RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
PRUNE_BATCH_SIZE = env_int("PRUNE_BATCH_SIZE", DEFAULT_PRUNE_BATCH_SIZE)


def _check_retention() -> None:
    from guards.domain.retention import retention_problem  # plain Python: safe before Django is set up

    if problem := retention_problem(RETENTION_DAYS, EFFECTIVENESS_WINDOW_DAYS):
        raise ImproperlyConfigured(problem)
    if PRUNE_BATCH_SIZE < 1:
        raise ImproperlyConfigured(f"PRUNE_BATCH_SIZE must be at least 1, not {PRUNE_BATCH_SIZE}")


_check_retention()

# --- i18n / time: everything is aware UTC ---
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
LOGIN_URL = "admin:login"
# How often each dashboard panel asks for fresh data (while its tab is visible).
DASHBOARD_REFRESH_SECONDS = env_int("DASHBOARD_REFRESH_SECONDS", 10)
if DASHBOARD_REFRESH_SECONDS < 1:
    raise ImproperlyConfigured(f"DASHBOARD_REFRESH_SECONDS must be at least 1, not {DASHBOARD_REFRESH_SECONDS}")

# How long each web process keeps what the bot API read for a symbol (parameters, plan, latest
# snapshots): a change made elsewhere counts within this long (guards/gate_memory.py). 0 turns it off.
GATE_REMEMBER_SECONDS = env_float("GATE_REMEMBER_SECONDS", 1.0)
if not 0 <= GATE_REMEMBER_SECONDS <= 1:
    raise ImproperlyConfigured(f"GATE_REMEMBER_SECONDS must be between 0 and 1, not {GATE_REMEMBER_SECONDS}")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Logging: one JSON line per record; decision lines carry a tag (SPEC §7) ---
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "tradingbot.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # kombu warns that the embedded filesystem broker has no hostname: true, and harmless.
    "loggers": {"django.server": {"level": "WARNING"}, "kombu.connection": {"level": "ERROR"}},
}

# Module-level so tests and services can reference the SPEC defaults in one place.
DEFAULT_WHALE_THRESHOLD_USD = Decimal("100000")
