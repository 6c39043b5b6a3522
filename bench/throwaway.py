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
def throwaway_database(label: str, **environment: str) -> Iterator[None]:
    admin_url = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    name = f"bench_{label}_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        os.environ["DATABASE_URL"] = admin_url.rsplit("/", 1)[0] + f"/{name}"
        os.environ.pop("REDIS_URL", None)
        os.environ["TRADINGBOT_VAR_DIR"] = tempfile.mkdtemp(prefix=f"bench-{label}-")
        os.environ["MARKET_DATA"] = "simulated"
        os.environ["DJANGO_SETTINGS_MODULE"] = "tradingbot.settings"
        os.environ.update(environment)
        import django

        django.setup()
        yield
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
