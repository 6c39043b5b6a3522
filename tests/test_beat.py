"""However many Celery beats are started, one sends the schedule; the others wait as standbys and
take over when it stops (tradingbot/beat.py, docs/operations.md)."""

import time

import pytest

from tradingbot.beat import STANDBY_CHECK_SECONDS, FileBeatLock, RedisBeatLock, SingleBeatScheduler
from tradingbot.celery import app


def test_one_redis_lock_holder_renews_and_a_dead_holder_is_replaced_after_the_ttl(redis_url):
    first = RedisBeatLock(redis_url, "tradingbot:beat-lock:test", ttl_seconds=0.5, token="host-a:1")
    second = RedisBeatLock(redis_url, "tradingbot:beat-lock:test", ttl_seconds=0.5, token="host-b:2")

    assert first.hold() and not second.hold()
    assert second.holder() == "host-a:1"
    for _ in range(4):  # renewed on every tick: held well past one TTL
        time.sleep(0.2)
        assert first.hold() and not second.hold()

    time.sleep(0.7)  # the holder stopped renewing (killed): the lock lapses
    assert second.hold() and not first.hold()
    second.release()
    assert first.hold()
    second.release()  # not its lock any more: nothing happens
    assert second.holder() == "host-a:1"


def test_the_embedded_file_lock_has_one_holder_until_released(tmp_path):
    first, second = FileBeatLock(tmp_path / "beat.lock"), FileBeatLock(tmp_path / "beat.lock")
    assert first.hold() and first.hold() and not second.hold()
    assert second.holder()  # host:pid of the holder
    first.release()
    assert second.hold() and not first.hold()
    second.release()


@pytest.mark.django_db(transaction=True)
def test_a_second_beat_sends_nothing_until_the_first_stops(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    active = SingleBeatScheduler(app=app, lazy=True)
    standby = SingleBeatScheduler(app=app, lazy=True)

    active.tick()
    assert active.holding and active._heap is not None  # it read the schedule and sends from it
    assert standby.tick() == STANDBY_CHECK_SECONDS and not standby.holding
    assert standby._heap is None  # it never looked at the schedule

    active.close()  # a clean stop releases the lock at once
    standby.tick()
    assert standby.holding and standby._heap is not None
    standby.close()


def test_without_redis_no_beat_holds_the_lock():
    lock = RedisBeatLock("redis://127.0.0.1:9/0", "tradingbot:beat-lock:test", token="host-a:1")
    assert not lock.hold() and lock.holder() == ""
    lock.release()  # nothing to release, and no error
