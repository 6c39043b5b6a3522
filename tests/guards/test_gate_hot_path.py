"""The gate's hot path (issue 11): one PostgreSQL statement and one cache read per decision,
with a revoked token refused and an approved parameter used within a second, and still one
decision per signal_id whoever races."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from guards.models import ApiToken, Evaluation, GuardEvent
from guards.parameters import approve_version, propose_version
from tests.guards.test_evaluate_signal_api import store_whale_flow

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("require_postgres")]
URL = "/api/v1/signals/evaluate"
LONG = {"symbol": "BTCUSDT", "direction": "LONG", "base_size": 1}


def post(token, body):
    return Client().post(
        URL, json.dumps(body), content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )


def test_a_decision_is_one_statement_committed_before_the_answer(bot_token, django_assert_num_queries):
    store_whale_flow([300_000])
    post(bot_token, LONG)  # token remembered, caches warm
    with django_assert_num_queries(1) as queries:  # autocommit, as in production: no BEGIN, no COMMIT
        answer = post(bot_token, {**LONG, "signal_id": "one-statement"}).json()
    assert queries.captured_queries[0]["sql"].startswith("WITH d AS (SELECT")
    stored = Evaluation.objects.get(signal_id="one-statement")  # committed: another connection would see it
    assert stored.response == answer
    events = list(GuardEvent.objects.filter(evaluation=stored).order_by("position"))
    assert [(e.guard, e.position, e.symbol) for e in events] == [
        (g["guard"], i, "BTCUSDT") for i, g in enumerate(answer["guards"])
    ]
    assert [(e.decision, e.reason) for e in events] == [(g["decision"], g["reason"]) for g in answer["guards"]]
    assert all(e.created_at == stored.evaluated_at for e in events)


def test_a_token_revoked_elsewhere_is_refused_within_a_second(bot_token):
    assert post(bot_token, LONG).status_code == 200  # remembered by this process now
    ApiToken.objects.update(revoked_at=timezone.now())  # as another process's admin would: nothing here is told
    revoked = time.monotonic()
    while (status := post(bot_token, LONG).status_code) == 200 and time.monotonic() - revoked < 2:
        time.sleep(0.05)
    assert status == 401 and time.monotonic() - revoked <= 1.1


def test_a_deactivated_user_is_refused_within_a_second(bot_token):
    from django.contrib.auth import get_user_model

    assert post(bot_token, LONG).status_code == 200
    get_user_model().objects.filter(username="bot").update(is_active=False)
    time.sleep(1.0)
    assert post(bot_token, LONG).status_code == 401


@pytest.mark.django_db  # the migrations' parameter rows are needed; nothing here is per process
def test_an_approved_threshold_decides_the_next_signal(bot_token):
    """Nothing keeps parameters between requests in a process: the approval drops the cached set,
    so the next request, in any process, reads the new version."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    proposer, approver = users.create_user("p", password="pw-p-1"), users.create_superuser("a", password="pw-a-1")
    store_whale_flow([120_000, -200_000])  # at $100k: whale CVD -80k, a LONG is blocked
    assert post(bot_token, LONG).json()["blocked_by"] == "WHALE_INTENT_FILTER"
    version = propose_version(parameter="whale_cvd_threshold_usd", value=250000, proposer=proposer)
    approve_version(version=version, approver=approver, now=timezone.now())
    approved = time.monotonic()
    body = post(bot_token, LONG).json()  # the next request, well within the second
    assert time.monotonic() - approved < 1
    assert body["allowed"] is True and body["thresholds"]["whale_cvd_threshold_usd"] == {"value": 250000, "version": 2}


def test_racing_repeats_and_new_signals_each_record_one_decision(bot_token):
    """16 threads: 8 send the same signal_id, 8 each a new one. One decision per signal_id, with its
    3 events; every repeat gets the first answer."""

    def send(i):
        try:
            body = {**LONG, "signal_id": "race-same" if i % 2 else f"race-new-{i}"}
            response = post(bot_token, body)
            return body["signal_id"], response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(send, range(16)))
    assert {status for _, status, _ in answers} == {200}
    same = [answer for signal_id, _, answer in answers if signal_id == "race-same"]
    assert len(same) == 8 and all(answer == same[0] for answer in same)
    assert Evaluation.objects.count() == 9
    assert all(e.events.count() == 3 for e in Evaluation.objects.all())
    assert Evaluation.objects.get(signal_id="race-same").response == same[0]
    later = post(bot_token, {**LONG, "signal_id": "race-same"}).json()
    assert later == same[0] and Evaluation.objects.count() == 9 and GuardEvent.objects.count() == 27


@pytest.mark.django_db
def test_the_answer_rendered_as_built_is_what_the_schema_would_render(bot):
    """The view renders the service's answer without validating it again: it must be exactly
    what validating against EvaluateOut would have given, blocked or allowed."""
    from guards.schemas import EvaluateOut

    store_whale_flow([120_000, -200_000])
    for direction in ("LONG", "SHORT"):
        answer = bot(URL, {**LONG, "direction": direction, "price": 97000.5}).json()
        assert EvaluateOut.model_validate(answer).model_dump(mode="json") == answer
