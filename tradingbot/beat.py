"""Exactly one Celery beat sends the schedule, however many are started (docs/operations.md).

`SingleBeatScheduler` is django-celery-beat's DatabaseScheduler behind a lock: before every tick
the beat takes or renews the lock; a beat that cannot is a standby and sends nothing, checking
again every few seconds. The lock lives in Redis when `REDIS_URL` is set (one key per database,
with a TTL the holder renews on every tick, so a beat that dies is replaced within the TTL), else
in a file lock in the embedded default's var/ directory (released by the kernel when the process
ends). A clean stop releases it at once.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

from guards.events import LogTag

logger = logging.getLogger("tradingbot.beat")
LOCK_TTL_SECONDS = 30  # a tick comes at least every 5 s (DatabaseScheduler's max interval)
STANDBY_CHECK_SECONDS = 5

# Renew the lock if we hold it, take it if nobody does: one round trip, atomic.
_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class BeatLock(Protocol):
    def hold(self) -> bool:
        """Take or renew the lock; whether this process holds it now."""
        ...

    def release(self) -> None: ...

    def holder(self) -> str:
        """Who holds it, for the log (host:pid), or "" when unknown."""
        ...


def me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class RedisBeatLock:
    def __init__(self, url: str, key: str, ttl_seconds: float = LOCK_TTL_SECONDS, token: str | None = None):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.key, self.ttl_ms, self.token = key, int(ttl_seconds * 1000), token or me()
        self._hold, self._release = self.client.register_script(_HOLD), self.client.register_script(_RELEASE)

    def hold(self) -> bool:
        import redis

        try:
            return bool(self._hold(keys=[self.key], args=[self.token, self.ttl_ms]))
        except redis.RedisError:  # the broker is unreachable too: nothing could be sent anyway
            return False

    def release(self) -> None:
        import redis

        try:
            self._release(keys=[self.key], args=[self.token])
        except redis.RedisError:
            pass  # it expires by itself

    def holder(self) -> str:
        import redis

        try:
            value = self.client.get(self.key)
        except redis.RedisError:
            return ""
        return value.decode() if value else ""


class FileBeatLock:
    """The embedded default: one machine, one var/ directory, a kernel file lock."""

    def __init__(self, path: Path):
        self.path, self.file = path, None

    def hold(self) -> bool:
        if self.file is not None:
            return True
        handle = open(self.path, "a+")  # held open for the life of the process
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.truncate(0)
        handle.write(me())
        handle.flush()
        self.file = handle
        return True

    def release(self) -> None:
        if self.file is not None:
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None

    def holder(self) -> str:
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""


def beat_lock() -> BeatLock:
    if settings.REDIS_URL:
        from guards.cache_keys import database_identity

        # One schedule per database: staging and production sharing a Redis each keep their beat.
        return RedisBeatLock(settings.REDIS_URL, f"tradingbot:beat-lock:{database_identity()}")
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    return FileBeatLock(Path(settings.VAR_DIR) / "beat.lock")


class SingleBeatScheduler(DatabaseScheduler):
    """Sends the schedule only while it holds the beat lock; otherwise waits as a standby."""

    def __init__(self, *args, **kwargs):
        self.lock: BeatLock = beat_lock()
        self.holding: bool | None = None  # unknown until the first tick: log whichever it is
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs):
        held = self.lock.hold()
        if held != self.holding:
            self._changed_hands(held)
        if not held:
            return STANDBY_CHECK_SECONDS
        return super().tick(*args, **kwargs)

    def _changed_hands(self, held: bool) -> None:
        self.holding = held
        if held:
            # Another beat may have run the schedule meanwhile: read the rows (their last run
            # times) again and rebuild the heap, rather than send what it already sent.
            self._initial_read, self._heap = True, None
            logger.info("this beat holds the schedule lock and sends the schedule", extra={"tag": LogTag.BEAT})
        elif holder := self.lock.holder():
            logger.warning(
                "another beat (%s) holds the schedule lock: this one waits as a standby",
                holder,
                extra={"tag": LogTag.BEAT, "holder": holder},
            )
        else:  # Redis unreachable: the broker is too, so nothing could be sent anyway
            logger.warning(
                "the schedule lock cannot be read: this beat sends nothing until it can", extra={"tag": LogTag.BEAT}
            )

    def close(self):
        try:
            super().close()
        finally:
            self.lock.release()
