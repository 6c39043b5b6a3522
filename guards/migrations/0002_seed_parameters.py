"""Version 1 of every tunable, active, with its default (SPEC §3, §4, §5.5).

Fixed values, never imported from live code: a migration means the same thing forever.
"""

from django.db import migrations

SEEDS = {
    "whale_cvd_threshold_usd": 100000,
    "whale_window_minutes": 60,
    "taker_window": "1h",
    "taker_min_share": 0.4,
    "fear_greed_cutoff": 80,
    "fear_greed_multiplier": 0.6,
    "cluster_window_pct": 3,
    "liq_magnet_hold_minutes": 90,
    "max_pain_hold_minutes": 75,
    "true_trend_hold_minutes": 45,
    "default_min_hold_minutes": 0,
    "max_pain_far_pct": 5,
    "guard_order": ["TAKER_AGGRESSION", "WHALE_INTENT_FILTER", "FEAR_GREED_MULTIPLIER"],
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
    dependencies = [("guards", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
