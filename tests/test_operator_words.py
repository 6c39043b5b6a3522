"""Words a user reads are the trader's and the operator's: no page, schema or command help
names the specification's sections ("SPEC §3" belongs in code comments and docs)."""

import importlib
import pkgutil

import pytest
from django.contrib.auth import get_user_model

import guards.management.commands as our_commands

pytestmark = pytest.mark.django_db


def test_the_published_api_schema_never_says_spec(client):
    assert "SPEC" not in client.get("/api/v1/openapi.json").content.decode()


@pytest.mark.parametrize("name", [m.name for m in pkgutil.iter_modules(our_commands.__path__)])
def test_command_help_never_says_spec(name):
    command = importlib.import_module(f"guards.management.commands.{name}").Command()
    parser = command.create_parser("manage.py", name)
    assert "SPEC" not in parser.format_help()


def test_admin_pages_never_say_spec(client):
    client.force_login(get_user_model().objects.create_superuser("op", "op@example.com", "pw-op-1"))
    for url in (
        "/admin/",
        "/admin/guards/parameterversion/",
        "/admin/guards/parameterversion/add/",
        "/admin/guards/parameterversion/?origin__exact=SEED",
        "/admin/guards/parameterchange/",
    ):
        html = client.get(url).content.decode()
        assert "SPEC" not in html, url
