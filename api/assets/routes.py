"""``/assets/<package>/<version>/<file>``: the vendored files, and only those.

The version is in the path, so a file never changes at its URL: browsers keep it a
year without asking again (``immutable``). Only files listed in the manifest are
served (no directory walking); each answer carries its type, ``nosniff``, the
subresource-integrity hash as ETag, and is gzipped once, in memory, for clients that
accept it."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from api.assets.manifest import URL_PREFIX, load_manifest

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".wasm": "application/wasm",
}
_TEXT = "text/plain; charset=utf-8"  # LICENSE, README.md, ...
_COMPRESSIBLE = ("text/", "application/json", "image/svg+xml")
_YEAR = 365 * 24 * 3600


@dataclass
class _Asset:
    path: Path
    etag: str
    content_type: str
    body: bytes | None = None
    gzipped: bytes | None = None

    def load(self) -> tuple[bytes, bytes | None]:
        if self.body is None:
            body = self.path.read_bytes()
            if self.content_type.startswith(_COMPRESSIBLE) and len(body) > 1024:
                self.gzipped = gzip.compress(body, compresslevel=9, mtime=0)
            self.body = body
        return self.body, self.gzipped


def _index() -> dict[str, _Asset]:
    assets = {}
    for package in load_manifest().packages:
        for file in package.files:
            key = package.url(file).removeprefix(URL_PREFIX + "/")
            content_type = _TYPES.get(Path(file).suffix.lower(), _TEXT)
            etag = '"' + package.sri.get(file, package.version) + '"'
            assets[key] = _Asset(package.path(file), etag, content_type)
    return assets


def assets_route() -> Route:
    """The route serving every vendored file (mount it once on the app)."""
    index = _index()

    async def serve(request: Request) -> Response:
        asset = index.get(request.path_params["path"])
        if asset is None:
            return PlainTextResponse("no such asset\n", status_code=404)
        headers = {
            "Cache-Control": f"public, max-age={_YEAR}, immutable",
            "ETag": asset.etag,
            "X-Content-Type-Options": "nosniff",
            "Cross-Origin-Resource-Policy": "same-origin",
            "Vary": "Accept-Encoding",
        }
        if asset.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        body, gzipped = asset.load()
        if gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            body = gzipped
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(body))
            return Response(media_type=asset.content_type, headers=headers)
        return Response(body, media_type=asset.content_type, headers=headers)

    return Route(URL_PREFIX + "/{path:path}", serve, methods=["GET", "HEAD"])
