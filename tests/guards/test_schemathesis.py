"""The published schema and the server agree (issue 7): Schemathesis drives every operation of
/api/v1/openapi.json in-process through the WSGI app, with every one of its checks.

Both directions are checked: a schema-valid request must not be refused (positive_data_acceptance)
and a schema-invalid one must be (negative_data_rejection); besides, no 5xx, answers that match
their declared schema and status, 401 without the token (ignored_auth), 405 for other methods.
Generation is derandomized (a fixed seed too), so CI sees the same cases every run: the coverage
phase's boundary cases plus 150 fuzzed ones per operation, about 760 requests in about 20 s."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import TypeAdapter, ValidationError
from schemathesis.checks import CHECKS, load_all_checks

from guards.schemas import AwareDatetime

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 7,
        # Positive and negative data; the examples, coverage (boundaries) and fuzzing phases.
        "generation": {"mode": "all", "deterministic": True},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
    }
)


def _published_schema():
    """The schema as the server publishes it; its requests go to the real WSGI app in-process."""
    from tradingbot.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=CONFIG)


schema = _published_schema()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: the WSGI handler would otherwise close the database
    connection after every response, and with it the test's transaction."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def every_check():
    load_all_checks()
    return CHECKS.get_all()


@schema.parametrize()
@settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    # One bot token serves every generated request of an operation, deliberately.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_passes_every_schemathesis_check(case, bot_token):
    _put_trade_times_in_order(case)
    case.call_and_validate(headers={"Authorization": f"Bearer {bot_token}"}, checks=every_check())


def _put_trade_times_in_order(case):
    """`closed_at` not before `opened_at` compares two fields, which JSON Schema cannot state (the
    schema says it in words): a generated trade closed before it opened is put in order."""
    body = case.body
    if not isinstance(body, dict) or case.operation.path != "/api/v1/trades":
        return
    times = TypeAdapter(AwareDatetime)
    try:
        reversed_ = times.validate_python(body["closed_at"]) < times.validate_python(body["opened_at"])
    except (KeyError, ValidationError):
        return  # not two valid times: the request is refused for that, whatever their order
    if reversed_:
        body["opened_at"], body["closed_at"] = body["closed_at"], body["opened_at"]
