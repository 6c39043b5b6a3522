"""A PostgreSQL database of one benchmark run's own, created and dropped around it.

    with throwaway_database("effectiveness", WATCHED_SYMBOLS="BTCUSDT,ETHUSDT"):
        ...  # Django is set up on bench_effectiveness_<pid>, migrate not yet run

The server is BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres). The product
runs as the embedded default reads its environment (no Redis, the simulated market, a temporary
var folder) plus `environment`; the database is dropped at the end whatever happens, and no
other database is touched.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


@contextmanager
def throwaway_postgres(label: str) -> Iterator[str]:
    """A database bench_<label>_<pid> on BENCH_PG_URL's server, created and dropped: its URL."""
    admin_url = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    name = f"bench_{label}_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def embedded_environment(label: str, database_url: str, **environment: str) -> dict[str, str]:
    """The environment the product reads as the embedded default would (no Redis, the simulated
    market, a temporary var folder), on `database_url`, plus `environment`."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    return env | {
        "DATABASE_URL": database_url,
        "TRADINGBOT_VAR_DIR": environment.get("TRADINGBOT_VAR_DIR") or tempfile.mkdtemp(prefix=f"bench-{label}-"),
        "MARKET_DATA": "simulated",
        "DJANGO_SETTINGS_MODULE": "tradingbot.settings",
        **environment,
    }


@contextmanager
def throwaway_database(label: str, **environment: str) -> Iterator[None]:
    """Django set up in this process on a throwaway PostgreSQL database (migrate not yet run)."""
    with throwaway_postgres(label) as url:
        os.environ.clear()
        os.environ.update(embedded_environment(label, url, **environment))
        import django

        django.setup()
        try:
            yield
        finally:
            from django.db import connections

            connections.close_all()
