"""Periodic tasks, declared in code and kept as django-celery-beat rows the admin can edit."""

from __future__ import annotations

import json

from django.conf import settings


def desired_tasks() -> list[dict]:
    """Every beat row this project wants: name, task, interval seconds, kwargs."""
    return [
        {
            "name": "fetch_intel: every input, every watched symbol",
            "task": "guards.fetch_intel",
            "every_seconds": 300,  # */5 * * * *: the shortest input TTL (SPEC §2)
            "kwargs": {"symbols": settings.WATCHED_SYMBOLS},
        },
    ]


def install_schedule() -> list[str]:
    """Create missing beat rows; an operator's edits to existing rows are kept."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    created = []
    for spec in desired_tasks():
        interval, _ = IntervalSchedule.objects.get_or_create(every=spec["every_seconds"], period=IntervalSchedule.SECONDS)
        _, was_created = PeriodicTask.objects.get_or_create(
            name=spec["name"],
            defaults={"task": spec["task"], "interval": interval, "kwargs": json.dumps(spec["kwargs"])},
        )
        if was_created:
            created.append(spec["name"])
    return created


def install_schedule_after_migrate(sender, **kwargs) -> None:
    install_schedule()
