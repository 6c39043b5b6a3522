"""The snapshot cache, reading and writing: the latest good snapshot of each input, kept in the
cache (keys namespaced per database, guards/cache_keys.py) in front of the snapshot table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.cache import cache

from guards import gate_memory
from guards.domain import inputs
from guards.domain.types import Intel, Reading
from guards.models import MarketSnapshot

ABSENT_TTL_SECONDS = 30  # "no snapshot yet" is remembered briefly, so a missing input costs no query


def store_snapshot(
    *,
    symbol: str,
    kind: str,
    source: str,
    fetched_at: datetime,
    derived: dict,
    raw: dict,
    ttl_seconds: int,
) -> MarketSnapshot:
    """Store a fetch as the input's latest snapshot row and cache it for twice its TTL (past that
    the guards fail open anyway and read the row instead)."""
    row = MarketSnapshot.objects.create(
        symbol=symbol, kind=kind, source=source, fetched_at=fetched_at, derived=derived, raw=raw
    )
    cache.set(snapshot_cache_key(symbol, kind), snapshot_payload(row), 2 * ttl_seconds)
    gate_memory.forget()
    return row


def snapshot_cache_key(symbol: str, kind: str) -> str:
    return f"intel:{kind}:{symbol}"


def cache_key_for(symbol: str, kind: str) -> str:
    """The cache key of `symbol`'s latest `kind` (market-wide inputs share one)."""
    return snapshot_cache_key(_key_symbol(symbol, kind), kind)


def latest_snapshot_payload(symbol: str, kind: str, read: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The latest good snapshot of one input: from the cache (or `read`, the entries already read
    in one round trip, guards.selectors.read_for_signal), else from the snapshot table.

    A cache entry that is not a payload at all is damage: it is dropped and the table answers."""
    key_symbol = _key_symbol(symbol, kind)
    key = snapshot_cache_key(key_symbol, kind)
    payload = cached(key, read)
    if isinstance(payload, dict):
        return payload or None  # {} marks "no snapshot yet", so a missing input costs no query either
    if payload is not None:
        cache.delete(key)
    row = MarketSnapshot.objects.filter(symbol=key_symbol, kind=kind).order_by("-fetched_at").first()
    if row is None:
        cache.set(key, {}, ABSENT_TTL_SECONDS)  # `store_snapshot` replaces it
        return None
    return snapshot_payload(row)


def _key_symbol(symbol: str, kind: str) -> str:
    return inputs.MARKET_WIDE_SYMBOL if kind in inputs.MARKET_WIDE else symbol


def cached(key: str, read: dict[str, Any] | None) -> Any:
    """`key`'s entry from `read` (entries already read in one round trip) when it holds it, else the cache."""
    return read[key] if read is not None and key in read else cache.get(key)


def forget_snapshot(symbol: str, kind: str) -> None:
    cache.delete(cache_key_for(symbol, kind))
    gate_memory.forget()


def missing_snapshots(intel: Intel) -> set[int]:
    """The snapshot ids `intel` was read from that this database does not hold (one query)."""
    ids = {found for reading in intel.readings.values() if (found := reading.detail.get("snapshot_id"))}
    return ids - set(MarketSnapshot.objects.filter(id__in=ids).values_list("id", flat=True)) if ids else set()


def without_snapshots(intel: Intel, missing: set[int]) -> Intel:
    """`intel` with every reading of a missing snapshot failed open (SNAPSHOT_MISSING) and its
    cache entry dropped, so the next read asks the table."""
    readings = dict(intel.readings)
    for kind, reading in intel.readings.items():
        if (snapshot_id := reading.detail.get("snapshot_id")) in missing:
            forget_snapshot(intel.symbol, kind)
            problem = f"SNAPSHOT_MISSING (snapshot {snapshot_id} is not in this database)"
            readings[kind] = Reading(None, None, reading.ttl_seconds, reading.source, problem=problem)
    return Intel(intel.symbol, readings)


def snapshot_payload(row: MarketSnapshot) -> dict[str, Any]:
    return {
        "id": row.id,
        "source": row.source,
        "fetched_at": row.fetched_at.isoformat(),
        "derived": row.derived,
        "raw": row.raw,
    }
