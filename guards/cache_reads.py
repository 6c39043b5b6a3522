"""The gate's one cache round trip (issue 11).

On Redis the entries a decision reads (the active parameters, the not-in-plan list, the latest
snapshot of each input) are read with one MGET of their raw bytes and decoded here, so that
bytes no cache write of ours makes (damage, another program's value) read as a miss, which the
reader answers from the table and writes again, instead of failing the request. Other cache
backends (the embedded default) are read as usual. A Redis outage reads as misses, as
django-redis's IGNORE_EXCEPTIONS does: the callers then read the database.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from redis.exceptions import RedisError

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
    try:
        return client.decode(value)
    except Exception as exc:  # bytes no cache write of ours makes: a miss, which the reader rewrites
        logger.warning("undecodable cache entry read as a miss: %s", type(exc).__name__)
        return None
