"""The gate's one cache round trip, decoding each distinct entry once per process (issue 11).

Every bot request reads the same handful of entries (the active parameters, the not-in-plan
list, the latest snapshot of each input), and they change every few seconds at most. On Redis
the entries are read with one MGET of their raw bytes; bytes already decoded in this process
give the object decoded before (unpickling a snapshot costs more than reading it), so the
decoded objects are shared and must never be changed by their readers. Anything else read
from Redis is decoded afresh. Other cache backends (the embedded default) are read as usual.
An entry that cannot be decoded reads as a miss too.
A Redis outage reads as misses, as django-redis's IGNORE_EXCEPTIONS does: the callers then read
the database.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from redis.exceptions import RedisError

MAX_REMEMBERED = 256  # distinct entries: a few per symbol, refreshed every few seconds
_decoded: dict[bytes, Any] = {}
logger = logging.getLogger("guards.cache")


def get_many(keys: list[str]) -> list[Any]:
    """The cached value of each key, None for a miss, in the order of `keys`."""
    client = getattr(cache, "client", None)
    if client is None or not hasattr(client, "decode"):  # not django-redis
        found = cache.get_many(keys)
        return [found.get(key) for key in keys]
    prefix = cache.make_key("")  # the namespace once, not per key (guards.cache_keys.make_key)
    try:
        raw = client.get_client(write=False).mget([prefix + key for key in keys])
    except (TimeoutError, RedisError) as exc:
        if not getattr(cache, "_ignore_exceptions", False):
            raise
        logger.warning("cache unreachable, reading the database instead: %s", type(exc).__name__)
        return [None] * len(keys)
    return [None if value is None else _decode(client, value) for value in raw]


def _decode(client, value: bytes) -> Any:
    found = _decoded.get(value, _decoded)
    if found is _decoded:
        try:
            found = client.decode(value)
        except Exception as exc:  # bytes no cache write of ours makes: a miss, which the reader rewrites
            logger.warning("undecodable cache entry read as a miss: %s", type(exc).__name__)
            return None
        if len(_decoded) >= MAX_REMEMBERED:
            _decoded.clear()
        _decoded[value] = found
    return found
