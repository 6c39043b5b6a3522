"""A real Celery worker consumes the fetch task from Redis and writes snapshots (SPEC §2, §8)."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from guards.domain import inputs
from guards.models import DataHealthEvent, MarketSnapshot
from guards.tasks import fetch_intel as fetch_intel_task
from tradingbot.celery import app


@pytest.fixture
def redis_broker(redis_url):
    previous = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url, app.conf.broker_transport_options = redis_url, {}
    yield redis_url
    app.conf.broker_url, app.conf.broker_transport_options = previous


@pytest.mark.django_db(transaction=True)
def test_worker_consumes_fetch_task_from_redis(redis_broker, settings):
    settings.MARKET_DATA = "simulated"
    assert app.connection_for_write().as_uri().startswith("redis://")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        fetch_intel_task.delay(symbols=["ETHUSDT"], force=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not MarketSnapshot.objects.filter(kind=inputs.WHALE_FLOW).exists():
            time.sleep(0.2)
    snapshot = MarketSnapshot.objects.get(kind=inputs.WHALE_FLOW, symbol="ETHUSDT")
    assert snapshot.source == "simulated"
    assert DataHealthEvent.objects.filter(symbol="ETHUSDT", outcome="ok").exists()


def test_every_beat_row_names_a_registered_task(db):
    from django_celery_beat.models import PeriodicTask

    names = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {"guards.fetch_input", "guards.refresh_plan", "optimizer.run_optimizer"} <= names
    app.loader.import_default_modules()  # what a worker does at start: every app's tasks module, discovered
    assert names <= set(app.tasks)
