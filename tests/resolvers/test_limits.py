"""Query limits (depth, aliases, tokens, cost) and error codes."""

from __future__ import annotations

import httpx
import pytest

from api.core.services import Services
from api.core.settings import Settings
from resolvers import limits
from tests.support.proxy import proxied
from tests.support.services import running_server
from tests.support.stats_fixtures import pin


async def _error(http: httpx.AsyncClient, query: str, variables: dict | None = None) -> dict:
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}})
    payload = response.json()
    assert payload.get("errors"), payload
    return payload["errors"][0]


async def test_too_many_aliases(as_anonymous: httpx.AsyncClient) -> None:
    query = (
        "{ " + " ".join(f"a{i}: access {{ precise }}" for i in range(limits.MAX_ALIASES + 1)) + " }"
    )
    error = await _error(as_anonymous, query)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert f"{limits.MAX_ALIASES + 1} aliases" in error["message"]


async def test_too_deep(as_anonymous: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # The schema is shallower than the real limit; lower it to see it refuse.
    monkeypatch.setattr(limits, "MAX_DEPTH", 2)
    error = await _error(
        as_anonymous, "query Deep { network { coverage { contributors { segments } } } }"
    )
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "operation 'Deep' is 4 levels deep; the limit is 2" in error["message"]


async def test_too_many_tokens(as_anonymous: httpx.AsyncClient) -> None:
    query = "{ " + " ".join("access { precise }" for _ in range(limits.MAX_TOKENS // 4)) + " }"
    error = await _error(as_anonymous, query)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "tokens" in error["message"]


FIELDS = (
    "code name currentStreams avgStreams maxStreams capacity broadcasters coverage {"
    " reportingOrchestrators knownOrchestrators stakeShare contributors { segments broadcasters } }"
)


async def test_too_costly_with_variables(as_anonymous: httpx.AsyncClient) -> None:
    query = (
        "query($level: RegionLevel!) { "
        + " ".join(f"r{i}: regions(level: $level) {{ {FIELDS} }}" for i in range(6))
        + " }"
    )
    # Six lists of at most 250 countries are fine ...
    response = await as_anonymous.post(
        "/graphql", json={"query": query, "variables": {"level": "COUNTRY"}}
    )
    assert not response.json().get("errors")
    # ... six of up to 2,000 cells are not.
    error = await _error(as_anonymous, query, {"level": "CELL"})
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert f"the cost limit is {limits.MAX_COST}" in error["message"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ regions(level: PLANET) { code } }", "BAD_USER_INPUT"),
        ('{ region(level: COUNTRY, code: "ZZ") { code } }', "BAD_USER_INPUT"),
        ("{ regions(level: CELL, resolution: 16) { code } }", "BAD_USER_INPUT"),
        ("{ regions { code } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ network { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ network { ", "GRAPHQL_PARSE_FAILED"),
    ],
)
async def test_error_codes(as_anonymous: httpx.AsyncClient, query: str, code: str) -> None:
    error = await _error(as_anonymous, query)
    assert error["extensions"]["code"] == code, error


async def test_bad_variable_values(as_anonymous: httpx.AsyncClient) -> None:
    error = await _error(
        as_anonymous, "query($w: Window!) { network(window: $w) { asOf } }", {"w": "FOREVER"}
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_storage_away_is_service_unavailable(services: Services, settings: Settings) -> None:
    async with proxied(settings.database_url) as (proxy, url):
        app_settings = settings.model_copy(update={"database_url": url})
        async with running_server(app_settings, workers=[]) as base:
            await pin(services)
            await proxy.cut()
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                error = await _error(http, "{ network { currentStreams } }")
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["message"] == limits.UNAVAILABLE_MESSAGE
