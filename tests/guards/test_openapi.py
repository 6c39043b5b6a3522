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
    base_size = schema["components"]["schemas"]["EvaluateIn"]["properties"]["base_size"]
    assert base_size["minimum"] == 1e-8 and base_size["maximum"] == 1e15  # the smallest stored amount
    assert "pattern" in schema["components"]["schemas"]["TradeIn"]["properties"]["symbol"]
