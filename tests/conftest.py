"""Shared fixtures: service availability, users, fake market-data servers."""

import os
import socket

import pytest
from django.conf import settings

IN_CI = os.environ.get("CI", "").lower() == "true"
DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}


def pytest_addoption(parser):
    parser.addoption(
        "--database-only",
        action="store_true",
        help="run only the tests that use the database (bin/test's second pass, on SQLite)",
    )


def pytest_collection_modifyitems(config, items):
    """--database-only: a test that never touches the database gains nothing from a second pass."""
    if not config.getoption("--database-only"):
        return
    keep, drop = [], []
    for item in items:
        uses_db = item.get_closest_marker("django_db") or DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        (keep if uses_db else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _need(available: bool, what: str) -> None:
    """Skip with a reason when a service is missing, except in CI where that is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true but is not reachable")
    pytest.skip(f"{what} not reachable on this machine")


@pytest.fixture
def require_postgres():
    """For race and lock tests only (concurrent transactions, row locks): everything else runs on
    SQLite too. A run on SQLite by choice (DATABASE_URL=sqlite://) skips them, even in CI."""
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if not on_postgres and settings.DATABASE_CHOSEN:
        pytest.skip("needs PostgreSQL: this run is on the database DATABASE_URL names")
    _need(on_postgres, "PostgreSQL at 127.0.0.1:5432")


@pytest.fixture
def redis_url():
    _need(settings.REDIS_AVAILABLE, "Redis at 127.0.0.1:6379")
    import redis

    client = redis.Redis.from_url(settings.TEST_REDIS_URL)
    client.flushdb()
    yield settings.TEST_REDIS_URL
    client.flushdb()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


pytest_plugins = ["tests.fakes.binance", "tests.fakes.coinglass"]


@pytest.fixture
def bot_token(db):
    from django.contrib.auth import get_user_model

    from guards.tokens import issue_token

    user = get_user_model().objects.create_user("bot", password="unused-password-1")
    token, _ = issue_token(user=user, name="test bot")
    return token


@pytest.fixture
def bot(client, bot_token):
    """POST JSON to the bot API with a valid bearer token."""
    import json

    def post(path, body, **headers):
        payload = body if isinstance(body, str) else json.dumps(body)
        return client.post(
            path, payload, content_type="application/json", headers={"Authorization": f"Bearer {bot_token}", **headers}
        )

    return post


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty intel cache, as the database starts empty."""
    from django.core.cache import cache

    from guards import gate_memory

    cache.clear()
    gate_memory.forget()
    yield
    cache.clear()
    gate_memory.forget()


@pytest.fixture(autouse=True)
def _fresh_limiter(settings, tmp_path):
    """Each test gets its own limiter state: a 429 penalty in one test must not stall the next."""
    settings.RATE_LIMIT_DIR = tmp_path / "ratelimit"
