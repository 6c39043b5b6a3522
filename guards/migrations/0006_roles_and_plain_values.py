"""The approval roles as groups, parameter values as plain JSON numbers, operators' words.

- Groups `proposer`, `approver` and `auditor` (SPEC §5.5 four-eyes approval): each may read the
  decisions and the audit trail; a proposer may propose, an approver may approve or reject,
  an auditor reads everything (tokens and beat rows included) and changes nothing.
- Numbers that earlier versions stored in quotes ("0.40") become JSON numbers (0.4).
- Seed reasons read "Default value" (an operator never reads a spec's section name).

Fixed lists here, never imported from live code: a migration must mean the same thing forever.
"""

from decimal import Decimal, InvalidOperation

from django.db import migrations, models

SHARED_VIEWS = [
    ("guards", "view_parameterversion"),
    ("guards", "view_parameterchange"),
    ("guards", "view_evaluation"),
    ("guards", "view_guardevent"),
    ("guards", "view_trade"),
    ("guards", "view_position"),
    ("guards", "view_marketsnapshot"),
    ("guards", "view_datahealthevent"),
    ("guards", "view_inputavailability"),
    ("guards", "view_sourceplan"),
]
ROLES = {
    "proposer": SHARED_VIEWS + [("guards", "add_parameterversion")],
    "approver": SHARED_VIEWS + [("guards", "approve_parameterversion")],
    "auditor": SHARED_VIEWS
    + [
        ("guards", "view_apitoken"),
        ("django_celery_beat", "view_periodictask"),
        ("django_celery_beat", "view_intervalschedule"),
        ("django_celery_beat", "view_crontabschedule"),
        ("django_celery_beat", "view_solarschedule"),
        ("django_celery_beat", "view_clockedschedule"),
    ],
}
TEXT_PARAMETERS = {"taker_window", "guard_order"}


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():  # permissions are otherwise only made after every migration
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in wanted:
            permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
            group.permissions.add(permission)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


def _plain(parameter, value):
    """A number stored in quotes, as the number; anything else unchanged."""
    if parameter in TEXT_PARAMETERS or not isinstance(value, str):
        return value
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    if not number.is_finite():
        return value
    return int(number) if number == number.to_integral_value() else float(number)


def plain_values(apps, schema_editor):
    ParameterVersion = apps.get_model("guards", "ParameterVersion")
    ParameterChange = apps.get_model("guards", "ParameterChange")
    for row in ParameterVersion.objects.all():
        value = _plain(row.parameter, row.value)
        if value != row.value or type(value) is not type(row.value):
            ParameterVersion.objects.filter(pk=row.pk).update(value=value)
    for row in ParameterChange.objects.all():
        old, new = _plain(row.parameter, row.old_value), _plain(row.parameter, row.new_value)
        if (old, new) != (row.old_value, row.new_value) or type(new) is not type(row.new_value):
            ParameterChange.objects.filter(pk=row.pk).update(old_value=old, new_value=new)
    ParameterVersion.objects.filter(reason="SPEC default").update(reason="Default value")
    ParameterChange.objects.filter(reason="SPEC default").update(reason="Default value")


class Migration(migrations.Migration):
    dependencies = [
        ("guards", "0005_database_identity"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "__latest__"),
    ]
    operations = [
        migrations.AlterField(
            model_name="parameterversion",
            name="origin",
            field=models.CharField(
                choices=[("SEED", "Default"), ("PERSON", "Person"), ("OPTIMIZER", "Optimizer")],
                default="PERSON",
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="parameterchange",
            name="action",
            field=models.CharField(
                choices=[
                    ("SEEDED", "Seeded"),
                    ("PROPOSED", "Proposed"),
                    ("APPROVED", "Approved"),
                    ("AUTO_APPROVED", "Approved automatically"),
                    ("REJECTED", "Rejected"),
                    ("APPROVAL_REFUSED", "Approval refused"),
                    ("REJECTION_REFUSED", "Rejection refused"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterModelOptions(
            name="parameterchange",
            options={"ordering": ["-created_at", "-id"], "verbose_name": "parameter change"},
        ),
        migrations.RunPython(plain_values, migrations.RunPython.noop),
        migrations.RunPython(create_roles, remove_roles),
    ]
