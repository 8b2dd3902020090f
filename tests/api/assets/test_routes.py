"""/assets: vendored files with their type, immutable caching, and nothing else."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.testclient import TestClient

from api.assets import asset_sri, asset_url, assets_route
from api.assets.manifest import load_manifest


def _client() -> TestClient:
    return TestClient(Starlette(routes=[assets_route()]))


def test_serves_every_vendored_file_with_type_and_cache_headers() -> None:
    client = _client()
    for package in load_manifest().packages:
        for file in package.files:
            response = client.get(package.url(file), headers={"Accept-Encoding": "identity"})
            assert response.status_code == 200, file
            assert response.content == package.path(file).read_bytes()
            assert "immutable" in response.headers["cache-control"]
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["etag"] == f'"{package.sri[file]}"'


def test_content_types_gzip_and_revalidation() -> None:
    client = _client()
    js = asset_url("graphiql", "graphiql.min.js")
    css = asset_url("graphiql", "graphiql.min.css")
    assert js == "/assets/graphiql/3.8.3/graphiql.min.js"
    response = client.get(js, headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["content-encoding"] == "gzip"
    raw = client.get(css, headers={"Accept-Encoding": "identity"})
    assert raw.headers["content-type"] == "text/css; charset=utf-8"
    assert "content-encoding" not in raw.headers
    etag = f'"{asset_sri("graphiql", "graphiql.min.js")}"'
    again = client.get(js, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


def test_only_listed_files() -> None:
    client = _client()
    for path in (
        "/assets/graphiql/3.8.3/package.json",
        "/assets/graphiql/3.8.2/graphiql.min.js",
        "/assets/graphiql/3.8.3/../../../manifest.json",
        "/assets/",
    ):
        assert client.get(path).status_code == 404, path
