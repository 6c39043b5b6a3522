"""The shipped roles read the learning loop too: proposer, approver and auditor may view
effectiveness runs and reports and optimizer runs (the evidence behind a proposal).

Fixed lists here, never imported from live code: a migration must mean the same thing forever.
"""

from django.db import migrations

VIEWS = ["view_effectivenessrun", "view_effectivenessreport", "view_optimizerrun"]
ROLES = ["proposer", "approver", "auditor"]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():  # permissions are otherwise only made after every migration
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    views = Permission.objects.filter(content_type__app_label="optimizer", codename__in=VIEWS)
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.add(*views)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    views = Permission.objects.filter(content_type__app_label="optimizer", codename__in=VIEWS)
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(*views)


class Migration(migrations.Migration):
    dependencies = [("optimizer", "0002_optimizer_runs"), ("guards", "0006_roles_and_plain_values")]
    operations = [migrations.RunPython(grant, revoke)]
