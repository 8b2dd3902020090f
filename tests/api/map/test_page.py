"""``GET /map``: what the page loads, all from the service, each with its integrity
hash, and the Content-Security-Policy that says so (the page itself runs in
tests/browser/test_map.py)."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx

from api.core.settings import Settings
from tests.support.services import running_server


def _sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


async def test_page_and_everything_it_loads(settings: Settings, services: object) -> None:
    explorer = "https://explorer.example.org"
    configured = settings.model_copy(update={"cors_origins": (explorer,)})
    async with (
        running_server(configured, workers=[]) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        page = await http.get("/map")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        csp = dict(
            part.strip().split(" ", 1)
            for part in page.headers["content-security-policy"].split(";")
        )
        assert csp["default-src"] == "'none'"
        assert csp["script-src"] == csp["style-src"] == csp["connect-src"] == "'self'"
        assert csp["frame-ancestors"] == f"'self' {explorer}"
        assert page.headers["x-content-type-options"] == "nosniff"

        loads = re.findall(r'(?:src|href)="([^"]+)"(?: integrity="([^"]+)")?', page.text)
        world = re.search(r'data-world="([^"]+)"', page.text)
        assert world is not None
        urls = {u: sri for u, sri in loads if not u.startswith("data:")}
        assert {"/map/map.js", "/map/map.css"} <= urls.keys()
        assert any("/assets/h3-js/" in u for u in urls) and any(
            "/assets/d3-geo/" in u for u in urls
        )
        for u, sri in [*urls.items(), (world.group(1), None)]:
            assert u.startswith(("/map/", "/assets/")), u  # nothing from another host
            response = await http.get(u)
            assert response.status_code == 200, u
            if u != world.group(1):
                assert sri == _sri(response.content), u
        assert (await http.get("/map/nothing.js")).status_code == 404


async def test_without_cors_origins_only_the_service_frames_it(
    settings: Settings, services: object
) -> None:
    alone = settings.model_copy(update={"cors_origins": ()})
    async with (
        running_server(alone, workers=[]) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        csp = (await http.get("/map")).headers["content-security-policy"]
    assert csp.endswith("frame-ancestors 'self'")
