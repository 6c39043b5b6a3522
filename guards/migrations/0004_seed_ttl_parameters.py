"""Version 1 of the input TTL parameters (SPEC §2 table, §5.5), active, with the SPEC values.

Fixed values, never imported from live code: a migration means the same thing forever.
"""

from django.db import migrations

SEEDS = {
    "whale_flow_ttl_seconds": 300,
    "liquidation_heatmap_ttl_seconds": 300,
    "fear_greed_ttl_seconds": 600,
    "taker_flow_ttl_seconds": 300,
    "max_pain_ttl_seconds": 300,
    "price_bars_ttl_seconds": 300,
}


def seed(apps, schema_editor):
    ParameterVersion = apps.get_model("guards", "ParameterVersion")
    ParameterChange = apps.get_model("guards", "ParameterChange")
    for name, value in SEEDS.items():
        if ParameterVersion.objects.filter(parameter=name).exists():
            continue
        version = ParameterVersion.objects.create(
            parameter=name, version=1, value=value, status="ACTIVE", origin="SEED", reason="Default value"
        )
        ParameterChange.objects.create(
            parameter=name, version=version, action="SEEDED", new_value=value, reason="Default value"
        )


class Migration(migrations.Migration):
    dependencies = [("guards", "0003_admin_names")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
