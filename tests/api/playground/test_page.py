"""The playground page: everything it loads comes from the service itself, under a
policy that allows nothing else (the browser suite runs it in Chromium)."""

from __future__ import annotations

import json
import re

import httpx

from api.playground.page import CONTENT_SECURITY_POLICY


async def test_the_page_loads_only_from_the_service(as_anonymous: httpx.AsyncClient) -> None:
    page = await as_anonymous.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe" not in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(urls) >= 7
    assert not re.search(r"<script>", page.text), "inline scripts would need 'unsafe-inline'"
    for url in urls:
        assert url.startswith(("/assets/", "/playground/")), url
        loaded = await as_anonymous.get(url)
        assert loaded.status_code == 200, url
        assert loaded.headers["x-content-type-options"] == "nosniff"
    # Vendored files carry the integrity the manifest pins.
    assert len(re.findall(r'integrity="sha384-', page.text)) == 6


async def test_example_tabs(as_anonymous: httpx.AsyncClient) -> None:
    page = (await as_anonymous.get("/graphql", headers={"Accept": "text/html"})).text
    data = re.search(r'id="lpm-examples">(.*?)</script>', page, re.S)
    assert data is not None
    tabs = json.loads(data.group(1))
    assert [
        re.search(r"^(?:query|mutation|subscription) (\w+)", t["query"], re.M).group(1)
        for t in tabs
    ] == ["Dashboard", "RequestNonce", "Live"]
    # Each example runs as written (the anonymous parts).
    for query, operation in ((tabs[0]["query"], "Dashboard"), (tabs[1]["query"], "WhoAmI")):
        answer = await as_anonymous.post(
            "/graphql", json={"query": query, "operationName": operation}
        )
        assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
