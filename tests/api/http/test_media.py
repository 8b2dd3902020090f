"""GraphQL over HTTP media types (api.http.media): application/graphql-response+json
says "nothing ran" with a 400 and no data; application/json stays as legacy clients
know it. graphql-http's whole audit runs in tests/browser (test_browser.py)."""

from __future__ import annotations

import httpx
import pytest

from api.http.media import wants_graphql_response
from tests.support.stats_scenario import Loaded

GRAPHQL_RESPONSE = {"Accept": "application/graphql-response+json"}
APOLLO = {"Accept": "application/graphql-response+json,application/json;q=0.9"}
LEGACY = {"Accept": "application/json"}
QUERY = "{ network { currentStreams precision } }"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, False),
        ("*/*", False),
        ("application/json", False),
        ("application/graphql-response+json", True),
        ("application/graphql-response+json,application/json;q=0.9", True),
        ("application/json, application/graphql-response+json", True),
        ("application/json, application/graphql-response+json;q=0.5", False),
        ("application/graphql-response+json;q=0", False),
        ("Application/GraphQL-Response+JSON; charset=utf-8", True),
        ("application/graphql-response+json;q=nonsense, */*", False),
    ],
)
def test_negotiation(accept: str | None, expected: bool) -> None:
    assert wants_graphql_response(accept) is expected


@pytest.mark.parametrize(
    ("body", "why", "legacy_status"),
    [
        ({"query": "{ network { "}, "Syntax Error", 200),
        ({"query": "{ network { noSuchField } }"}, "noSuchField", 200),
        (
            {"query": "query($w: Window!) { network(window: $w) { asOf } }", "variables": {}},
            "$w",
            200,
        ),
        # strawberry refuses this one before GraphQL, in both types (as GraphQL errors).
        ({"query": QUERY, "operationName": "Missing"}, "Missing", 400),
    ],
)
async def test_request_errors(
    as_anonymous: httpx.AsyncClient, body: dict, why: str, legacy_status: int
) -> None:
    for headers in (GRAPHQL_RESPONSE, APOLLO):
        response = await as_anonymous.post("/graphql", json=body, headers=headers)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/graphql-response+json")
        payload = response.json()
        assert "data" not in payload and why in payload["errors"][0]["message"]
    legacy = await as_anonymous.post("/graphql", json=body, headers=LEGACY)
    assert legacy.status_code == legacy_status
    assert legacy.headers["content-type"] == "application/json"
    assert legacy.json().get("data") is None and why in legacy.json()["errors"][0]["message"]


async def test_answers_that_ran_are_200(scripted: Loaded, as_anonymous: httpx.AsyncClient) -> None:
    ok = await as_anonymous.post("/graphql", json={"query": QUERY}, headers=APOLLO)
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "application/graphql-response+json; charset=utf-8"
    assert ok.json()["data"]["network"]["precision"] == "COARSENED"
    # A field error (anonymous callers cannot create tokens): it ran, so 200 and data.
    failed = await as_anonymous.post(
        "/graphql",
        json={"query": 'mutation { createApiToken(name: "x", scopes: [READ]) { token } }'},
        headers=GRAPHQL_RESPONSE,
    )
    assert failed.status_code == 200
    assert "data" in failed.json()
    assert failed.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_cached_answer_takes_the_asked_type(
    scripted: Loaded, as_anonymous: httpx.AsyncClient
) -> None:
    first = await as_anonymous.post("/graphql", json={"query": QUERY}, headers=LEGACY)
    second = await as_anonymous.post("/graphql", json={"query": QUERY}, headers=APOLLO)
    third = await as_anonymous.post("/graphql", json={"query": QUERY}, headers=LEGACY)
    assert second.headers["x-lpm-cache"] == third.headers["x-lpm-cache"] == "hit"
    assert second.headers["content-type"].startswith("application/graphql-response+json")
    assert first.headers["content-type"] == third.headers["content-type"] == "application/json"
    assert first.content == second.content == third.content


async def test_refused_credentials_take_the_asked_type(as_anonymous: httpx.AsyncClient) -> None:
    response = await as_anonymous.post(
        "/graphql",
        json={"query": QUERY},
        headers={**GRAPHQL_RESPONSE, "Authorization": "Bearer lpm_nonsense"},
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert "data" not in response.json()
