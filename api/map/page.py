"""``GET /map``: a self-contained page that draws the public GraphQL view on a map.

Everything it loads comes from this service: its own script and style
(``/map/map.js``, ``/map/map.css``), the vendored libraries (h3-js for cell outlines,
d3-geo for the projection, topojson-client and the Natural Earth 1:110m outline of
world-atlas; ``api.assets``), each with its subresource-integrity hash, and the data
from ``/graphql`` without credentials, so every visitor sees the anonymous view. The
Content-Security-Policy says so to the browser: nothing from any other host, no
inline script or style, no eval; ``frame-ancestors`` lets the explorer
(``LPM_CORS_ORIGINS``) show the page in an iframe and nobody else.
"""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from api.assets import asset_sri, asset_url

HERE = Path(__file__).parent
# (package, file) of each vendored script, in load order (d3-geo needs d3-array).
SCRIPTS = (
    ("d3-array", "dist/d3-array.min.js"),
    ("d3-geo", "dist/d3-geo.min.js"),
    ("topojson-client", "dist/topojson-client.min.js"),
    ("h3-js", "dist/h3-js.umd.js"),
)
WORLD = ("world-atlas", "countries-110m.json")
_OWN = {"map.js": "text/javascript; charset=utf-8", "map.css": "text/css; charset=utf-8"}


def _sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


@dataclass(frozen=True)
class _File:
    body: bytes
    content_type: str
    sri: str


def content_security_policy(frame_ancestors: tuple[str, ...]) -> str:
    ancestors = " ".join(("'self'", *frame_ancestors))
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            f"frame-ancestors {ancestors}",
        )
    )


def _render(own: dict[str, _File]) -> str:
    template = (HERE / "map.html").read_text()
    tags = [
        f'<script src="{asset_url(p, f)}" integrity="{asset_sri(p, f)}" defer></script>'
        for p, f in SCRIPTS
    ]
    tags.append(f'<script src="/map/map.js" integrity="{own["map.js"].sri}" defer></script>')
    return (
        template.replace(
            "{{stylesheet}}",
            f'<link rel="stylesheet" href="/map/map.css" integrity="{own["map.css"].sri}">',
        )
        .replace("{{scripts}}", "\n    ".join(tags))
        .replace("{{world}}", html.escape(asset_url(*WORLD)))
    )


def map_routes(frame_ancestors: tuple[str, ...] = ()) -> list[Route]:
    """The page and its own script and style."""
    own = {
        name: _File(data, kind, _sri(data))
        for name, kind in _OWN.items()
        for data in [(HERE / name).read_bytes()]
    }
    page = _render(own).encode()
    headers = {
        "Content-Security-Policy": content_security_policy(frame_ancestors),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }

    async def map_page(request: Request) -> Response:
        return HTMLResponse(page, headers=headers)

    async def map_file(request: Request) -> Response:
        found = own.get(request.path_params["name"])
        if found is None:
            return PlainTextResponse("no such file\n", status_code=404)
        return Response(
            found.body,
            media_type=found.content_type,
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
        )

    return [
        Route("/map", map_page, methods=["GET", "HEAD"]),
        Route("/map/{name}", map_file, methods=["GET", "HEAD"]),
    ]
