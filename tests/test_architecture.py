"""Pure trading logic stays pure: the domain packages import no Django, Celery or requests."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"django", "celery", "requests", "redis", "kombu", "ninja"}
DOMAIN_FILES = sorted((ROOT / "guards" / "domain").rglob("*.py")) + sorted(
    (ROOT / "optimizer" / "domain").rglob("*.py")
)


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_has_modules_to_check():
    assert len(DOMAIN_FILES) >= 5


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_module_imports_no_framework(path):
    assert imported_roots(path) & FORBIDDEN == set()


def test_every_guard_contract_is_complete():
    """Each rule module declares everything the chain, events, logs and parameters derive from."""
    from guards.domain import inputs
    from guards.domain.chain import GUARD_PARAMS, GUARDS
    from guards.domain.params import DEFAULTS, SPECS
    from guards.domain.rules import CONTRACTS

    assert [c.name for c in CONTRACTS] == list(GUARDS) and len(GUARDS) == len(CONTRACTS)
    for contract in CONTRACTS:
        assert contract.needs and all(kind in inputs.TTL_SECONDS for kind in contract.needs)
        assert contract.log_tag and callable(contract.evaluate)
        assert all(SPECS[p.name] is p for p in contract.parameters)
        assert all(name in DEFAULTS for name in GUARD_PARAMS[contract.name])
    assert DEFAULTS["guard_order"] == ["TAKER_AGGRESSION", "WHALE_INTENT_FILTER", "FEAR_GREED_MULTIPLIER"]


def test_event_types_and_log_tags_come_from_the_contracts():
    import django

    django.setup()
    from guards.domain.rules import CONTRACTS
    from guards.events import EVENT_TYPES, GUARD_LOG_TAGS

    for contract in CONTRACTS:
        assert contract.name in EVENT_TYPES
        assert GUARD_LOG_TAGS[contract.name] == contract.log_tag
    assert {"WHALE-INTENT", "FEAR-GREED"} <= set(GUARD_LOG_TAGS.values())  # SPEC §7's tags


def test_seed_migrations_hold_the_declared_defaults():
    """Migrations carry fixed values (never live code); they must equal what the parameters declare."""
    import importlib

    from guards.domain.params import DEFAULTS

    seeded = {}
    for name in ("0002_seed_parameters", "0004_seed_ttl_parameters"):
        seeded |= importlib.import_module(f"guards.migrations.{name}").SEEDS
    assert seeded == DEFAULTS
