"""The published API (issue 4): valid OpenAPI 3 with the four bot endpoints, browsable docs."""

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_openapi_is_valid_and_lists_the_bot_endpoints(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in ("/api/v1/signals/evaluate", "/api/v1/positions/min-hold", "/api/v1/trades", "/api/v1/health"):
        assert path in paths
    evaluate = paths["/api/v1/signals/evaluate"]["post"]
    assert {"200", "400", "401"} <= set(evaluate["responses"])
    assert evaluate["security"]


def test_docs_page_is_served(client):
    assert client.get("/api/v1/docs").status_code == 200


def test_docs_page_loads_its_assets_from_our_static_files_not_a_cdn(client):
    """The network may be closed (and traders' servers often are): every asset is ours."""
    import re

    from django.conf import settings
    from django.contrib.staticfiles import finders

    html = client.get("/api/v1/docs").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith(settings.STATIC_URL), f"{asset} is not served by us"
        assert finders.find(asset.removeprefix(settings.STATIC_URL)), f"{asset} is missing"


def test_schema_states_the_limits_the_api_enforces_as_json_schema(client):
    schema = client.get("/api/v1/openapi.json").json()

    def keys(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield key
                yield from keys(value)
        elif isinstance(node, list):
            for item in node:
                yield from keys(item)

    assert not {"gt", "ge", "lt", "le"} & set(keys(schema))  # pydantic's names leaking instead of JSON Schema's
    base_size = schema["components"]["schemas"]["EvaluateIn"]["properties"]["base_size"]["anyOf"][0]
    assert base_size["minimum"] == 1e-8 and base_size["maximum"] == 1e15  # the smallest stored amount
    assert "pattern" in schema["components"]["schemas"]["TradeIn"]["properties"]["symbol"]


def _field_schema(schema, model, field):
    """The JSON Schema of one request field, `$ref`s resolvable, its `null` alternative dropped."""
    node = schema["components"]["schemas"][model]["properties"][field]
    if "anyOf" in node:
        kept = [n for n in node["anyOf"] if n.get("type") != "null"]
        node = kept[0] if len(kept) == 1 else {"anyOf": kept}
    return {**node, "components": schema["components"]}


def _valid(node, value) -> bool:
    """Validated as JSON Schema reads a pattern (ECMA-262: `$` is the end of the string; Python's
    `re.search` would also let `$` match before a final newline)."""
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(node, validate_formats=True).is_valid(value)


@pytest.mark.parametrize(
    ("model", "field"), [("TradeIn", "opened_at"), ("TradeIn", "closed_at"), ("MinHoldIn", "opened_at")]
)
def test_schema_states_that_times_lie_in_the_years_2009_to_2099(client, model, field):
    """Issue 7: a time before 2009 was schema-valid but refused by the server."""
    node = _field_schema(client.get("/api/v1/openapi.json").json(), model, field)
    assert node["format"] == "date-time" and "pattern" in node
    for accepted in ("2009-01-01T00:00:00Z", "2026-11-24T12:00:00.5+05:30", "2099-12-31T23:59:59-23:59"):
        assert _valid(node, accepted), accepted
    for refused in (
        "2008-12-31T23:59:59Z",  # before 2009
        "1970-01-01T00:00:00Z",
        "2100-01-01T00:00:00Z",  # 2100 and later
        "2026-11-24T12:00:00",  # no timezone
        "2026-11-24 12:00:00Z",  # not RFC 3339
        "2026-11-24T12:00Z",  # no seconds
        1764000000,  # a Unix time is not a time string
    ):
        assert not _valid(node, refused), refused


@pytest.mark.parametrize(
    ("model", "field"),
    [
        ("EvaluateIn", "signal_id"),
        ("EvaluateIn", "strategy"),
        ("TradeIn", "trade_id"),
        ("TradeIn", "signal_id"),
        ("MinHoldIn", "strategy"),
        ("MinHoldIn", "position_id"),
    ],
)
def test_schema_states_that_ids_and_labels_hold_no_control_characters(client, model, field):
    """Issue 7: a tab as strategy and a DEL (U+007F, character 127) in an id were schema-valid."""
    import re

    node = _field_schema(client.get("/api/v1/openapi.json").json(), model, field)
    for refused in ("\t", "TREND\n", "a\u0000b", "id\u007f", "\u001f"):
        assert not re.fullmatch(node["pattern"], refused), repr(refused)
        assert not _valid(node, refused), repr(refused)
    for accepted in ("TRUE_TREND", "s-1 ü €", "\u0085 is not C0"):
        assert _valid(node, accepted), accepted


@pytest.mark.parametrize("model", ["EvaluateIn", "TradeIn", "MinHoldIn"])
def test_schema_states_the_symbol_blanks_the_server_reads(client, model):
    """Schemathesis: `\\s` means other blanks in ECMA-262 than in Python, so the schema spells them."""
    node = _field_schema(client.get("/api/v1/openapi.json").json(), model, "symbol")
    for accepted in ("BTCUSDT", " btcusdt\t", "\r\n\u000b\fEthUsdt  "):
        assert _valid(node, accepted), repr(accepted)
    for refused in ("\ufeffBTCUSDT", "\u00a0BTCUSDT", "\u001cBTCUSDT", "BTCUSDT\u0085", "BTC USDT", "B"):
        assert not _valid(node, refused), repr(refused)


@pytest.mark.parametrize(
    ("field", "accepted", "refused"),
    [
        ("pnl", [5.16, -1e15, "-12.5", "0", "1000000000000000.000"], ["1000000000000000.01", "1e3", "+5", " 5", "5."]),
        ("size", [1e-8, 1e15, "0.00000001", "97000.5", "0001.5"], ["0.000000009", "0", "-1", "1e-8", "Infinity"]),
    ],
)
def test_schema_states_amounts_as_numbers_or_bounded_decimal_strings(client, field, accepted, refused):
    """Amounts may be sent as decimal strings (docs/decisions.md); the schema says so and bounds them."""
    node = _field_schema(client.get("/api/v1/openapi.json").json(), "TradeIn", field)
    for value in accepted:
        assert _valid(node, value), repr(value)
    for value in refused:
        assert not _valid(node, value), repr(value)
