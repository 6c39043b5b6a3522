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


def test_guard_registry_has_event_names_and_log_tags():
    import django

    django.setup()
    from guards.domain.chain import GUARD_PARAMS, GUARDS
    from guards.domain.params import DEFAULTS
    from guards.events import GUARD_LOG_TAGS, EventType

    for name in GUARDS:
        assert name in EventType.values
        assert name in GUARD_LOG_TAGS
        assert name in DEFAULTS["guard_order"]
        assert all(p in DEFAULTS for p in GUARD_PARAMS[name])
