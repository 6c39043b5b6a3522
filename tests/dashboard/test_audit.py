"""The audit trail (SPEC §6): guard decisions filtered and paged without counting, one decision
opened to its inputs, versions and shadow outcome, parameter versions, optimizer runs and
effectiveness reports; behind the login; bad filters answered 400 with the field named."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.audit import EVENTS_PAGE, Cursor, EventFilter, event_combinations, guard_events
from guards.models import Evaluation, GuardEvent
from guards.parameters import approve_version, propose_version
from optimizer.effectiveness import run_effectiveness
from optimizer.models import EffectivenessRun
from optimizer.runs import run_optimizer
from tests.guards.test_parameter_approval import staff
from tests.optimizer.test_runs import WHALE, evaluate, history

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def auditor(client):
    user = staff("auditor", "auditor")
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    "url", ["/audit/", "/audit/events/", "/audit/versions/?parameter=x", "/audit/decisions/1/", "/audit/runs/"]
)
def test_anonymous_visitors_are_sent_to_the_admin_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/audit/")


def test_an_empty_database_shows_every_panel_empty(client, auditor):
    response = client.get("/audit/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "No guard decisions." in text
    assert "No optimizer runs yet" in text and "No effectiveness reports yet" in text
    assert "whale_cvd_threshold_usd" in text  # the seeded versions are there from the start
    assert "{#" not in text and "{%" not in text  # no template syntax leaks onto the page


def test_decisions_made_through_the_api_are_listed_and_filtered(client, auditor, bot):
    evaluate(bot, "blocked-1", [-150_000])
    evaluate(bot, "allowed-1", [150_000])

    every = client.get("/audit/").content.decode()
    assert every.count('class="open-decision"') == GuardEvent.objects.count()

    blocks = client.get("/audit/events/", {"guard": "WHALE_INTENT_FILTER", "decision": "block"}, headers=HTMX)
    assert blocks.status_code == 200
    text = blocks.content.decode()
    assert "<html" not in text  # the panel only, for HTMX to swap
    assert text.count('class="open-decision"') == 1
    blocked = Evaluation.objects.get(signal_id="blocked-1")
    assert f"/audit/decisions/{blocked.pk}/" in text

    other_symbol = client.get("/audit/events/", {"symbol": "ethusdt"}, headers=HTMX).content.decode()
    assert "No guard decisions match these filters" in other_symbol


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"guard": "NOPE"}, "guard"),
        ({"decision": "maybe"}, "decision"),
        ({"symbol": "BTC/USDT"}, "symbol"),
        ({"before": "yesterday"}, "before"),
        ({"parameter": "no_such_thing"}, "parameter"),
        ({"run_parameter": "guard_order"}, "run_parameter"),
        ({"versions_before": "1.x"}, "versions_before"),
        ({"reports_before": "-5.1"}, "reports_before"),
        ({"before": "999999999999999999999999.1"}, "before"),  # beyond any date
        ({"before": "1.99999999999999999999"}, "before"),  # beyond any id
        ({"before": "١٢.٣"}, "before"),  # digits, but not ASCII ones
    ],
)
def test_a_filter_that_cannot_be_used_is_answered_400_naming_the_field(client, auditor, query, field):
    page = client.get("/audit/", query)
    assert page.status_code == 400
    assert f"{field}: " in page.content.decode()
    panel = {"guard": "events", "decision": "events", "symbol": "events", "before": "events"}.get(
        field, {"parameter": "versions", "run_parameter": "runs", "versions_before": "versions"}.get(field, "reports")
    )
    fragment = client.get(f"/audit/{panel}/", query, headers=HTMX)
    assert fragment.status_code == 400
    assert f"{field}: " in fragment.content.decode() and "<html" not in fragment.content.decode()


def test_an_unknown_panel_or_decision_is_not_found(client, auditor):
    assert client.get("/audit/nothing/", headers=HTMX).status_code == 404
    assert client.get("/audit/decisions/999999/").status_code == 404
    assert client.get("/audit/decisions/99999999999999999999999/").status_code == 404


def _events(count: int) -> list[GuardEvent]:
    """`count` events over three guards, two symbols and three decisions; every third pair shares
    its created_at (one evaluation's events do), so the id breaks ties."""
    start = timezone.now() - timedelta(days=1)
    guards = ("TAKER_AGGRESSION", "WHALE_INTENT_FILTER", "FEAR_GREED_MULTIPLIER")
    rows = [
        GuardEvent(
            event_type=guards[n % 3],
            guard=guards[n % 3],
            decision=("allow", "block", "resize", "allow")[n % 4],
            symbol=("BTCUSDT", "ETHUSDT")[n % 2],
            created_at=start + timedelta(seconds=n // 3),
        )
        for n in range(count)
    ]
    return GuardEvent.objects.bulk_create(rows)


def _walk(client, query: dict) -> list[int]:
    """Every page of the events panel, following the Older link; no query may count."""
    ids, before = [], None
    for _ in range(100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/audit/events/", {**query, **({"before": before} if before else {})}, headers=HTMX)
        assert response.status_code == 200
        assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
        text = response.content.decode()
        rows = [int(pk) for pk in re.findall(r'id="event-row-(\d+)"', text)]
        assert len(rows) <= EVENTS_PAGE
        ids += rows
        older = re.search(r'id="events-older" href="[^"]*(?:\?|&amp;)before=([0-9.]+)', text)
        if older is None:
            return ids
        assert len(rows) == EVENTS_PAGE
        before = older.group(1)
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"symbol": "BTCUSDT"},
        {"guard": "WHALE_INTENT_FILTER"},
        {"decision": "allow"},
        {"guard": "TAKER_AGGRESSION", "decision": "allow"},
        {"guard": "WHALE_INTENT_FILTER", "symbol": "ETHUSDT", "decision": "block"},
    ],
)
def test_pages_cover_every_matching_event_once_newest_first_without_counting(client, auditor, query):
    stored = _events(260)
    wanted = EventFilter(**query)
    expected = sorted(
        (e for e in stored if wanted.matches(e.guard, e.symbol, e.decision)),
        key=lambda e: (e.created_at, e.pk),
        reverse=True,
    )

    assert _walk(client, query) == [e.pk for e in expected]


def test_the_combinations_are_found_by_skipping_along_the_index():
    _events(24)
    assert sorted(event_combinations()) == sorted({(e.guard, e.symbol, e.decision) for e in GuardEvent.objects.all()})


def test_a_cursor_round_trips_to_the_microsecond():
    at = timezone.now().replace(microsecond=123456)
    assert Cursor.parse("before", str(Cursor(at, 42))) == Cursor(at, 42)


def test_a_page_after_the_last_event_is_empty_and_has_no_next():
    _events(5)
    oldest = GuardEvent.objects.order_by("created_at", "id").first()
    page = guard_events(EventFilter(symbol="BTCUSDT"), Cursor(oldest.created_at, oldest.pk))
    assert page.rows == [] and page.next is None


def test_a_decision_opens_to_its_inputs_versions_and_shadow_outcome(client, auditor, bot):
    evaluate(bot, "blocked-1", [-150_000])
    blocked = Evaluation.objects.get(signal_id="blocked-1")
    Evaluation.objects.filter(pk=blocked.pk).update(
        shadow_status="computed", shadow_pnl=Decimal("-42.5"), shadow_size=Decimal(1000)
    )

    response = client.get(f"/audit/decisions/{blocked.pk}/", headers=HTMX)

    assert response.status_code == 200
    text = response.content.decode()
    assert "<html" not in text
    assert "blocked by WHALE_INTENT_FILTER" in text
    assert "computed" in text and "-$42.50" in text  # the shadow outcome
    assert "whale_cvd_usd" in text and "-150000.00" in text  # the guard's inputs
    assert re.search(r"Whale[^<]*</td>\s*<td>100,000 USD</td>\s*<td>v1</td>\s*<td>default</td>", text)
    assert "<html" in client.get(f"/audit/decisions/{blocked.pk}/").content.decode()  # opened directly


def test_parameter_versions_show_who_proposed_approved_and_why(client, auditor):
    proposer, approver = staff("alice", "proposer"), staff("bob", "approver")
    version = propose_version(parameter=WHALE, value=120000, proposer=proposer, reason="whales got bigger")
    approve_version(version=version, approver=approver, now=timezone.now())

    response = client.get("/audit/versions/", {"parameter": WHALE}, headers=HTMX)

    text = response.content.decode()
    assert response.status_code == 200
    assert "v2" in text and "120,000 USD" in text and "alice" in text and "bob" in text
    assert "whales got bigger" in text and "superseded" in text


def test_optimizer_runs_show_their_candidate_tables(client, auditor, bot):
    history(bot, blocked_pnl="30")
    run_optimizer(now=timezone.now(), parameters=[WHALE])

    response = client.get("/audit/runs/", {"run_parameter": WHALE}, headers=HTMX)

    text = response.content.decode()
    assert "110000.00" in text and "+$120.00" in text  # the best candidate's row
    assert "Proposed v2" in text


def test_effectiveness_reports_are_listed_per_run(client, auditor, bot):
    evaluate(bot, "blocked-1", [-150_000])
    run_effectiveness(now=timezone.now() + timedelta(seconds=1), days=7)

    text = client.get("/audit/reports/", headers=HTMX).content.decode()

    assert "WHALE_INTENT_FILTER" in text and "Precision" in text


def test_older_pages_of_runs_follow_the_keyset(client, auditor):
    now = timezone.now()
    for n in range(12):
        EffectivenessRun.objects.create(window_start=now, window_end=now, ran_at=now - timedelta(hours=n))
    seen, query = [], {}
    for _ in range(3):
        text = client.get("/audit/reports/", query, headers=HTMX).content.decode()
        seen += re.findall(r'id="effectiveness-(\d+)"', text)
        older = re.search(r'id="reports-older" href="[^"]*(?:\?|&amp;)reports_before=([0-9.]+)', text)
        query = {"reports_before": older.group(1)} if older else {}
    assert len(seen) == len(set(seen)) == 12 and not query


def test_no_panel_counts_and_each_asks_a_few_queries(client, auditor, bot):
    history(bot, blocked_pnl="30")
    run_optimizer(now=timezone.now())
    run_effectiveness(now=timezone.now(), days=7)
    _events(120)
    for url, query in [
        ("/audit/", {}),
        ("/audit/events/", {"symbol": "BTCUSDT"}),
        ("/audit/versions/", {}),
        ("/audit/runs/", {}),
        ("/audit/reports/", {}),
        (f"/audit/decisions/{Evaluation.objects.first().pk}/", {}),
    ]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, query, headers=HTMX).status_code == 200
        sql = [q["sql"].upper() for q in queries.captured_queries]
        assert not [s for s in sql if "COUNT(" in s], url
        assert len(sql) <= 14, (url, len(sql))  # session, user and a few bounded reads
