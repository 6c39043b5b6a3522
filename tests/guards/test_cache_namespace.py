"""The cache belongs to its database (SPEC §2): every key carries the database's identity."""

import uuid

import pytest
from django.core.cache import cache
from django.db import connection, transaction

from guards import cache_keys
from guards.models import DatabaseIdentity, ParameterVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def another_database():
    """Give this database another identity, as a second database would have."""

    def switch():
        DatabaseIdentity.objects.update(uuid=uuid.uuid4())
        cache_keys.forget_identity()

    yield switch
    cache_keys.forget_identity()  # the test's transaction rolls the row back


def test_migrate_gives_the_database_an_identity():
    identity = DatabaseIdentity.objects.get()
    assert cache_keys.database_identity() == identity.uuid.hex
    assert identity.uuid.hex in cache.make_key("intel:fear_greed:*")


def test_two_databases_never_see_each_others_entries(another_database):
    cache.set("intel:fear_greed:*", {"id": 1})
    first_key = cache.make_key("intel:fear_greed:*")
    another_database()
    assert cache.make_key("intel:fear_greed:*") != first_key
    assert cache.get("intel:fear_greed:*") is None
    cache.set("intel:fear_greed:*", {"id": 2})
    assert cache.get("intel:fear_greed:*") == {"id": 2}


def test_keys_carry_the_cache_schema_version():
    assert f"-s{cache_keys.CACHE_SCHEMA_VERSION}:intel:" in cache.make_key("intel:whale_flow:BTCUSDT")


def test_identity_is_read_once_per_process(django_assert_num_queries):
    cache_keys.forget_identity()  # as a fresh process
    with django_assert_num_queries(3) as first:  # the read, inside a savepoint
        cache.get("warm-up")
    assert sum("guards_databaseidentity" in q["sql"] for q in first.captured_queries) == 1
    identity = DatabaseIdentity.objects.get().uuid.hex
    with django_assert_num_queries(0):
        keys = {cache.make_key("intel:whale_flow:BTCUSDT") for _ in range(10)}
        assert [cache.get("intel:whale_flow:BTCUSDT") for _ in range(10)] == [None] * 10
    assert len(keys) == 1 and identity in keys.pop()  # the identity read once is the one used


def test_unmigrated_database_never_poisons_the_callers_transaction():
    """A missing identity table (a database not migrated yet) gives a stand-in namespace that is
    not remembered, and the caller's transaction goes on (on PostgreSQL a failed query would abort
    it, but for the savepoint)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE guards_databaseidentity RENAME TO guards_databaseidentity_away")
    cache_keys.forget_identity()
    try:
        with transaction.atomic():
            assert ":db-unmigrated-" in cache.make_key("intel:fear_greed:*")
            assert ParameterVersion.objects.exists()  # the transaction still works
        assert cache_keys.database_identity().startswith("unmigrated-")  # asked again, not remembered
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE guards_databaseidentity_away RENAME TO guards_databaseidentity")
        cache_keys.forget_identity()
    assert not cache_keys.database_identity().startswith("unmigrated-")
