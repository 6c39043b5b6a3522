"""Django signal receivers: drop cached read models when what they summarise changes."""

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from guards import gate_memory, selectors
from guards.intel import snapshots
from guards.models import InputAvailability, MarketSnapshot, ParameterVersion


def _forget(key: str):
    def handler(sender, **kwargs):
        cache.delete(key)  # now, and again after commit so no reader re-caches the old rows
        gate_memory.forget()
        transaction.on_commit(lambda: (cache.delete(key), gate_memory.forget()))

    return handler


def connect() -> None:
    for model, key in (
        (ParameterVersion, selectors.ACTIVE_PARAMETERS_KEY),
        (InputAvailability, selectors.NOT_IN_PLAN_KEY),
    ):
        handler = _forget(key)
        post_save.connect(handler, sender=model, weak=False, dispatch_uid=f"forget-{key}-save")
        post_delete.connect(handler, sender=model, weak=False, dispatch_uid=f"forget-{key}-delete")
    post_delete.connect(_forget_snapshot, sender=MarketSnapshot, weak=False, dispatch_uid="forget-snapshot-delete")


def _forget_snapshot(sender, instance: MarketSnapshot, **kwargs) -> None:
    """A deleted snapshot is never served from the cache: the next read asks the table."""
    snapshots.forget_snapshot(instance.symbol, instance.kind)
    transaction.on_commit(lambda: snapshots.forget_snapshot(instance.symbol, instance.kind))
