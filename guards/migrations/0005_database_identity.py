"""This database's identity (a random UUID): the intel cache's namespace (SPEC §2)."""

import uuid

from django.db import migrations, models


def create_identity(apps, schema_editor):
    DatabaseIdentity = apps.get_model("guards", "DatabaseIdentity")
    DatabaseIdentity.objects.using(schema_editor.connection.alias).get_or_create(id=1, defaults={"uuid": uuid.uuid4()})


class Migration(migrations.Migration):
    dependencies = [("guards", "0004_seed_ttl_parameters")]

    operations = [
        migrations.CreateModel(
            name="DatabaseIdentity",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, editable=False, primary_key=True, serialize=False)),
                ("uuid", models.UUIDField(editable=False, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"verbose_name": "database identity", "verbose_name_plural": "database identity"},
        ),
        migrations.RunPython(create_identity, migrations.RunPython.noop),
    ]
