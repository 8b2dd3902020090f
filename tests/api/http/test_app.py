import httpx


async def test_graphiql_for_browsers(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_graphql_typename(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_metrics_count_requests_by_route_not_path(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    await client.get("/no/such/path/12345")
    text = (await client.get("/metrics")).text
    assert 'lpm_http_requests_total{route="/healthz",status="200"}' in text
    assert 'route="unmatched",status="404"' in text
    assert "12345" not in text


async def test_cors_preflight_follows_the_allowlist(client: httpx.AsyncClient) -> None:
    allowed = await client.options(
        "/graphql",
        headers={"Origin": "https://explorer.test", "Access-Control-Request-Method": "POST"},
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://explorer.test"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    foreign = await client.options(
        "/graphql",
        headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in foreign.headers
