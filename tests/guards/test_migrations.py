"""Data migrations do what they say on a database that holds what earlier versions stored."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("guards", "0005_database_identity")]
AFTER = [("guards", "0006_roles_and_plain_values")]


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    """Later tests need every migration applied, whatever this test left."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_quoted_numbers_become_numbers_and_seed_reasons_lose_the_spec():
    old = migrate(BEFORE)
    Version, Change = old.get_model("guards", "ParameterVersion"), old.get_model("guards", "ParameterChange")
    Change.objects.all().delete()
    Version.objects.all().delete()
    share = Version.objects.create(
        parameter="taker_min_share", version=1, value="0.40", status="ACTIVE", origin="SEED", reason="SPEC default"
    )
    window = Version.objects.create(parameter="taker_window", version=1, value="1h", status="ACTIVE", origin="SEED")
    whale = Version.objects.create(parameter="whale_cvd_threshold_usd", version=1, value="120000", status="ACTIVE")
    Change.objects.create(parameter="taker_min_share", version=share, action="SEEDED", new_value="0.40")

    new = migrate(AFTER)
    Version, Change = new.get_model("guards", "ParameterVersion"), new.get_model("guards", "ParameterChange")
    assert Version.objects.get(pk=share.pk).value == 0.4
    assert Version.objects.get(pk=share.pk).reason == "Default value"
    assert Version.objects.get(pk=window.pk).value == "1h"  # a choice stays text
    assert Version.objects.get(pk=whale.pk).value == 120000 and isinstance(Version.objects.get(pk=whale.pk).value, int)
    assert Change.objects.get(version_id=share.pk).new_value == 0.4
    Group = new.get_model("auth", "Group")
    assert set(Group.objects.values_list("name", flat=True)) >= {"proposer", "approver", "auditor"}
    assert Group.objects.get(name="approver").permissions.filter(codename="approve_parameterversion").exists()
