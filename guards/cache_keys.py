"""Cache keys that belong to their database (SPEC §2).

Every key carries the database's identity (guards.models.DatabaseIdentity, a UUID created by
`migrate`) and the cache schema version, so two databases, or two deployments sharing one
Redis, never see each other's entries, and a change in what is cached never reads old shapes.
Configured as the cache's KEY_FUNCTION. The rate limiter's Redis keys are not cache keys: the
budget belongs to the API key, whichever deployment spends it.
"""

from __future__ import annotations

import hashlib
import uuid

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

CACHE_SCHEMA_VERSION = 1  # raise when the shape of a cached value changes
_identities: dict[tuple[str, str, str], str] = {}  # per process: the gate is hot, no query per access


def make_key(key: str, key_prefix: str, version: int) -> str:
    """Django's default key with this database's namespace in front of the caller's key."""
    return f"{key_prefix}:{version}:{namespace()}:{key}"


def namespace(alias: str = DEFAULT_DB_ALIAS) -> str:
    return f"db-{database_identity(alias)}-s{CACHE_SCHEMA_VERSION}"


def database_identity(alias: str = DEFAULT_DB_ALIAS) -> str:
    """The database's UUID (hex), read once per process; a stand-in while it has none (unmigrated)."""
    where = _location(alias)
    if found := _identities.get(where):
        return found
    found = _read_identity(alias)
    if found is None:  # not migrated yet (or unreachable): ask again next time
        return "unmigrated-" + hashlib.sha256(":".join(where).encode()).hexdigest()[:12]
    _identities[where] = found
    return found


def forget_identity(alias: str = DEFAULT_DB_ALIAS) -> None:
    _identities.pop(_location(alias), None)


def _location(alias: str) -> tuple[str, str, str]:
    config = connections[alias].settings_dict
    return str(config.get("HOST") or ""), str(config.get("PORT") or ""), str(config["NAME"])


def _read_identity(alias: str) -> str | None:
    from guards.models import DatabaseIdentity

    try:  # in its own (sub)transaction: a missing table must not poison the caller's transaction
        with transaction.atomic(using=alias):
            found = DatabaseIdentity.objects.using(alias).values_list("uuid", flat=True).first()
    except DatabaseError:
        return None
    return found.hex if found else None


def ensure_identity_after_migrate(sender, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """A flushed database (tests) gets a new identity, as a new database would; migrate's own row stays."""
    from guards.models import DatabaseIdentity

    try:
        with transaction.atomic(using=using):
            _, created = DatabaseIdentity.objects.using(using).get_or_create(id=1, defaults={"uuid": uuid.uuid4()})
    except DatabaseError:  # migrated back to before the table exists
        return
    if created:
        forget_identity(using)
