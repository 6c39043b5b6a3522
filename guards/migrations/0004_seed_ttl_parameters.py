"""Version 1 of the input TTL parameters (SPEC §2 table, §5.5), active, with the SPEC values."""

from django.db import migrations

from guards.domain.inputs import TTL_SECONDS
from guards.domain.params import DEFAULTS, ttl_parameter


def seed(apps, schema_editor):
    ParameterVersion = apps.get_model("guards", "ParameterVersion")
    ParameterChange = apps.get_model("guards", "ParameterChange")
    for name in (ttl_parameter(kind) for kind in TTL_SECONDS):
        if ParameterVersion.objects.filter(parameter=name).exists():
            continue
        version = ParameterVersion.objects.create(
            parameter=name, version=1, value=DEFAULTS[name], status="ACTIVE", origin="SEED", reason="Default value"
        )
        ParameterChange.objects.create(
            parameter=name, version=version, action="SEEDED", new_value=DEFAULTS[name], reason="Default value"
        )


class Migration(migrations.Migration):
    dependencies = [("guards", "0003_admin_names")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
