"""Generated and damaged remote-write requests through the real app: every answer is a
deliberate one (204, 400, 413, 415, 429), never a 5xx, whatever the body or headers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.core.services import Services
from tests.fuzz.conftest import examples
from tests.fuzz.protowire import messages, mutated
from tests.support.ingest import ADDRESS, Orchestrator, now_ms, register
from tests.support.remote_write_bodies import (
    V1_HEADERS,
    V2_HEADERS,
    compress,
    livepeer_series,
    v1_request,
    v2_request,
)

CONTENT_TYPES = st.sampled_from(
    [
        V1_HEADERS["Content-Type"],
        V2_HEADERS["Content-Type"],
        "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        "application/x-protobuf; proto=prometheus.WriteRequest; charset=utf-8",
        "application/json",
        "",
        "application/x-protobuf;proto=",
    ]
)
ENCODINGS = st.sampled_from(["snappy", "SNAPPY", "gzip", "", "snappy, gzip", "identity"])
# Read once: generation must not depend on the clock (a timestamp one varint byte longer
# between a test case and its replay is "inconsistent data generation" to Hypothesis).
NOW_MS = now_ms()


@pytest.fixture
async def orch(services: Services) -> Orchestrator:
    return await register(services, ADDRESS)


@pytest.fixture
async def http(quiet_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=quiet_url, timeout=60) as client:
        yield client


@st.composite
def requests(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    """A body and its headers: mostly what Prometheus sends, often damaged."""
    at = NOW_MS - draw(st.integers(0, 3_600_000))
    series = livepeer_series(draw(st.integers(1, 30)), timestamp_ms=at)
    version = draw(st.sampled_from([1, 2]))
    raw = (v1_request(series) if version == 1 else v2_request(series)).SerializeToString()
    kind = draw(st.sampled_from(["valid", "damaged", "damaged-snappy", "protobuf", "bytes"]))
    if kind == "valid":
        body = compress(raw)
    elif kind == "damaged":
        body = compress(draw(mutated(raw)))
    elif kind == "damaged-snappy":
        body = draw(mutated(compress(raw)))
    elif kind == "protobuf":
        body = compress(draw(messages))
    else:
        body = draw(st.binary(max_size=512))
    headers = dict(V1_HEADERS if version == 1 else V2_HEADERS)
    if draw(st.integers(0, 3)) == 0:
        headers["Content-Type"] = draw(CONTENT_TYPES)
        headers["Content-Encoding"] = draw(ENCODINGS)
        headers["X-Prometheus-Remote-Write-Version"] = draw(
            st.sampled_from(["0.1.0", "2.0.0", "", "9"])
        )
    return body, headers


@settings(max_examples=examples(40))
@given(request=requests())
async def test_no_body_or_header_gets_a_5xx(
    http: httpx.AsyncClient, orch: Orchestrator, request: tuple[bytes, dict[str, str]]
) -> None:
    body, headers = request
    headers["Authorization"] = f"Bearer {orch.token}"
    response = await http.post("/api/v1/write", content=body, headers=headers)
    assert response.status_code in (204, 400, 413, 415, 429), (
        response.status_code,
        response.text,
    )
    assert "Traceback" not in response.text
