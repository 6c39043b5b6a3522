"""One module per guard on signals, each declaring its `CONTRACT` (guards/domain/spec.py).

Every module in this package is a guard: the chain, the parameter table, the event vocabulary
and the log tags are built from the contracts found here (docs/adding-a-guard.md).
"""

import importlib
import pkgutil

from guards.domain.spec import GuardContract


def _contracts() -> tuple[GuardContract, ...]:
    found = [importlib.import_module(f"{__name__}.{m.name}").CONTRACT for m in pkgutil.iter_modules(__path__)]
    return tuple(sorted(found, key=lambda c: (c.default_position is None, c.default_position or 0, c.name)))


CONTRACTS = _contracts()
