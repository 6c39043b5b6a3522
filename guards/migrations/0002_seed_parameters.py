"""Version 1 of every tunable, active, with the SPEC defaults (SPEC §5.5)."""

from django.db import migrations

from guards.domain.params import DEFAULTS


def seed(apps, schema_editor):
    ParameterVersion = apps.get_model("guards", "ParameterVersion")
    ParameterChange = apps.get_model("guards", "ParameterChange")
    for name, value in DEFAULTS.items():
        if ParameterVersion.objects.filter(parameter=name).exists():
            continue
        version = ParameterVersion.objects.create(
            parameter=name, version=1, value=value, status="ACTIVE", origin="SEED", reason="Default value"
        )
        ParameterChange.objects.create(
            parameter=name, version=version, action="SEEDED", new_value=value, reason="Default value"
        )


class Migration(migrations.Migration):
    dependencies = [("guards", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
