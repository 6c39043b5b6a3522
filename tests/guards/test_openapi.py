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
