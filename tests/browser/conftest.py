"""Browser tests: Debian's headless Chromium driven by Playwright for Python against `live_server`.

Fixtures:
    browser       one Chromium for all the tests in tests/browser (package scope)
    page          a fresh context and page per test, 10 s timeouts; a full-page screenshot
                  lands in test-artifacts/screenshots/<test name>.png when the test ends
    admin_login   admin_login(page, live_server, username, password): log in through the admin's
                  own login form

A test that uses `live_server` runs on a transactional database (the server is another thread)
and, here, with serialized rollback: it starts from the database as the migrations left it
(seeded parameter versions, permissions, beat rows), and the database is put back in that state
afterwards, so later tests see what they would have seen without the browser tests. A browser
test that carries its own `django_db` mark must say `serialized_rollback=True` in it too: without
it the mark turns the serialized rollback off, and the tests after it start from an empty database.
"""

import contextlib
import os
import re
import warnings
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from tests.conftest import _need

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",  # root in a container: Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # the machine reaches no network but the package registries
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="package")
def browser():
    """Chromium from /usr/bin/chromium (Debian), headless, with a fresh user-data dir."""
    _need(os.access(CHROMIUM, os.X_OK), f"Chromium at {CHROMIUM} (Debian package 'chromium'; .ci/run installs it)")

    # Playwright's sync API keeps an asyncio event loop marked as running in this (the test)
    # thread from start() to stop(). Two things in Django change while it does:
    # - The ORM refuses calls from a thread with a running loop (SynchronousOnlyOperation), so a
    #   test could not create a user or read a row. Nothing but Playwright runs on that loop and
    #   the ORM calls are ordinary synchronous ones, so the check is switched off
    #   (DJANGO_ALLOW_ASYNC_UNSAFE), for as long as Playwright runs.
    # - Django keeps database connections per thread, but per context while a loop runs: the
    #   test would get new connection objects, not the ones pytest-django set up (serialized
    #   rollback then silently does nothing, and the flush after each test re-runs post_migrate).
    #   The connection objects of this thread are put into that storage too, and taken out again
    #   before Playwright stops.
    # The fixture is package-scoped so that the loop is gone again before the rest of the suite
    # runs: a session-scoped one would leave it running for every later test (where asyncio.run()
    # would fail too).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    thread_connections = {alias: connections[alias] for alias in connections}
    playwright = sync_playwright().start()
    try:
        for alias, connection in thread_connections.items():
            setattr(connections._connections, alias, connection)
        expect.set_options(timeout=TIMEOUT_MS)
        # headless=True is Chromium's --headless; each launch gets a fresh, temporary user-data dir
        # from Playwright (it refuses a --user-data-dir argument to launch()).
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        for alias in thread_connections:
            with contextlib.suppress(AttributeError):
                delattr(connections._connections, alias)
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, request):
    """A new browser context and page for this test; a full-page screenshot when it ends."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', request.node.name)}.png"
    try:
        tab.screenshot(path=str(target), full_page=True)
    except Exception as exc:  # a crashed or closed page must not hide the test's own result
        warnings.warn(f"no screenshot for {request.node.nodeid}: {exc}", stacklevel=1)
    finally:
        context.close()


def _admin_login(page, live_server, username: str, password: str) -> None:
    """Log in through the real admin login form; fails with the form's error when refused."""
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-form [type=submit]")
    page.wait_for_load_state()
    error = page.locator(".errornote")
    if error.count():
        pytest.fail(f"admin login as {username!r} refused: {error.first.inner_text()}")
    expect(page.locator("#user-tools")).to_contain_text(username)


@pytest.fixture
def admin_login():
    """admin_login(page, live_server, username, password): logged in, on the page `next` led to."""
    return _admin_login


@pytest.fixture(autouse=True)
def _migrated_data(django_db_serialized_rollback):
    """Every browser test starts from the migrated data (serialized rollback). Requested statically,
    because pytest-django decides at collection which databases to serialize."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a serialized-rollback test Django flushes without re-running post_migrate, which would
    leave later tests an empty database (no content types, permissions, seeded parameters):
    load the migrated data back, as it was when the test database was created."""
    try:
        return (yield)
    finally:
        if nextitem is not None:  # at the last test the test database is already gone
            _reload_migrated_data(item.config)


def _reload_migrated_data(config) -> None:
    from pytest_django.plugin import blocking_manager_key

    connection = connections["default"]
    contents = getattr(connection, "_test_serialized_contents", None)
    if contents is None:
        return
    with config.stash[blocking_manager_key].unblock():
        connection.creation.deserialize_db_from_string(contents)
