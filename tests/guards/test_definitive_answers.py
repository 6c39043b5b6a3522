"""A definitive answer from a source is remembered for the input's TTL (SPEC §2): an unsupported
symbol costs no call until then, judged on this database's data-health records."""

from datetime import timedelta

import pytest
from django.utils import timezone

from guards.domain import inputs
from guards.intel import ingest
from guards.marketdata.coinglass import PATHS
from guards.models import DataHealthEvent

pytestmark = pytest.mark.django_db
TTL = timedelta(seconds=inputs.TTL_SECONDS[inputs.TAKER_FLOW])


def fetch_taker(now, symbol="XYZUSDT"):
    return ingest.fetch_one(kind=inputs.TAKER_FLOW, symbol=symbol, now=now)


def test_unsupported_symbol_is_not_asked_again_inside_its_ttl(fake_coinglass):
    fake_coinglass.unsupported.add("XYZ")
    start = timezone.now()
    assert fetch_taker(start) == ("failed", "BAD_PARAMETERS")
    assert len(fake_coinglass.calls(PATHS["taker"])) == 1
    assert fetch_taker(start + TTL * 0.5) == ("not_supported", "BAD_PARAMETERS")
    assert len(fake_coinglass.calls(PATHS["taker"])) == 1  # no call, no budget spent
    assert DataHealthEvent.objects.filter(symbol="XYZUSDT").count() == 1  # a skip records nothing
    assert fetch_taker(start + TTL) == ("failed", "BAD_PARAMETERS")  # past the TTL: asked again
    assert len(fake_coinglass.calls(PATHS["taker"])) == 2


def test_fetch_report_shows_the_remembered_answer_and_other_symbols_still_fetch(fake_coinglass, fake_binance):
    fake_coinglass.unsupported.add("XYZ")
    start = timezone.now()
    ingest.fetch_intel(symbols=["XYZUSDT"], now=start)
    fake_coinglass.unsupported.clear()  # it would answer now, but the answer stands for the TTL
    calls = len(fake_coinglass.requests)
    report = ingest.fetch_intel(symbols=["XYZUSDT", "BTCUSDT"], now=start + timedelta(seconds=60))
    outcomes = {(s, k): (o, r) for s, k, o, r in report.outcomes}
    for kind in (inputs.TAKER_FLOW, inputs.MAX_PAIN, inputs.LIQUIDATION):
        assert outcomes["XYZUSDT", kind] == ("not_supported", "BAD_PARAMETERS")
        assert outcomes["BTCUSDT", kind] == ("ok", "")
    assert "not_supported BAD_PARAMETERS" in report.summary()
    assert not [r for r in fake_coinglass.requests[calls:] if r["query"].get("symbol") == "XYZ"]


def test_force_asks_again(fake_coinglass):
    fake_coinglass.unsupported.add("XYZ")
    start = timezone.now()
    fetch_taker(start)
    assert ingest.fetch_one(kind=inputs.TAKER_FLOW, symbol="XYZUSDT", now=start, force=True)[0] == "failed"
    assert len(fake_coinglass.calls(PATHS["taker"])) == 2


def test_a_passing_failure_is_not_remembered(fake_coinglass):
    fake_coinglass.respond(PATHS["taker"], status=500, body={"code": "500", "msg": "busy"})
    fake_coinglass.respond(PATHS["taker"], status=500, body={"code": "500", "msg": "busy"})
    start = timezone.now()
    assert fetch_taker(start, "BTCUSDT") == ("failed", "UPSTREAM_ERROR")
    assert fetch_taker(start + timedelta(seconds=1), "BTCUSDT") == ("ok", "")


def test_a_later_success_ends_the_remembered_answer(fake_coinglass):
    fake_coinglass.respond(PATHS["taker"], body={"code": "404", "msg": "not found"})
    start = timezone.now()
    assert fetch_taker(start, "BTCUSDT") == ("failed", "NOT_FOUND")
    assert ingest.fetch_one(kind=inputs.TAKER_FLOW, symbol="BTCUSDT", now=start, force=True) == ("ok", "")
    assert fetch_taker(start + timedelta(seconds=1), "BTCUSDT") == ("cached", "")
