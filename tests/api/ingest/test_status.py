"""An orchestrator's own ingest status (``viewer { ingest }``) after a scripted mix of
good and bad series sent through the real endpoint, read with a READ API token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.core.services import Services
from api.core.settings import Settings
from auth.tokens import create_token
from tests.support.ingest import (
    ADDRESS,
    NODE,
    OTHER_ADDRESS,
    node_series,
    now_ms,
    register,
    send,
    send_series,
)
from tests.support.remote_write_bodies import Series, v1_body
from tests.support.services import running_server

RATE = 10
"""Samples per second: a burst of 3,000 (api.ingest.limits.BURST_SECONDS)."""
MAX_SERIES = 8
SECRET = "do-not-repeat-me"
"""A label value that must never come back."""

QUERY = """{ viewer { address ingest {
  receiving lastReceivedAt lastStoredAt storedSamples activeSeries seriesLimit
  samplesPerSecondLimit
  nodes { name lastStoredAt newestSampleAt }
  minutes { start receivedSamples storedSamples droppedSamples refusedSamples }
  drops { reason samples series labelNames metrics }
  refusals { reason requests samples lastMessage }
} } }"""


@pytest.fixture
async def limited_url(services: Services, settings: Settings) -> AsyncIterator[str]:
    limited = settings.model_copy(
        update={"ingest_samples_per_second": RATE, "ingest_max_series": MAX_SERIES}
    )
    async with running_server(limited, workers=[]) as url:
        yield url


async def status(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    assert SECRET not in response.text
    return body["data"]["viewer"]


async def settled(
    http: httpx.AsyncClient, token: str, done: Any, within: float = 10.0
) -> dict[str, Any]:
    """The status once ``done(status)`` holds (written to Redis in the background)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await status(http, token)
        if done(found["ingest"]) or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.2)


async def test_drops_and_refusals_by_reason_for_the_owner_only(
    services: Services, limited_url: str
) -> None:
    orch = await register(services, ADDRESS)
    other = await register(services, OTHER_ADDRESS)
    _, read = await create_token(services.db, ADDRESS, "status script", ["read"])
    _, other_read = await create_token(services.db, OTHER_ADDRESS, "status script", ["read"])
    t = now_ms() - 30_000
    long_node = "n" * 201
    mix = [
        # Kept: 3 series, 2 samples each.
        node_series("livepeer_current_sessions_total", [(t, 2), (t + 15_000, 3)]),
        node_series("livepeer_max_sessions_total", [(t, 10), (t + 15_000, 10)]),
        node_series("livepeer_tickets_recv", [(t, 1), (t + 15_000, float("nan"))]),
        # not_allowlisted: 2 series (4 samples); their names are never repeated back.
        Series({"__name__": "go_goroutines", "node_id": NODE, "pod": SECRET}, [(t, 1), (t, 2)]),
        Series({"__name__": "secret_metric", "job": SECRET}, [(t, 1), (t + 1, 2)]),
        # no_node_id: 1 series.
        Series(
            {"__name__": "livepeer_current_sessions_total", "instance": SECRET, "job": "lp"},
            [(t, 1)],
        ),
        # invalid_node_id: 1 series.
        node_series("livepeer_max_sessions_total", [(t, 1)], node=long_node),
        # loopback_device: 1 series (2 samples).
        node_series("node_network_receive_bytes_total", [(t, 1), (t + 1, 2)], device="lo"),
        # not_shared: an optional metric this orchestrator did not choose.
        node_series("livepeer_segment_transcode_failed_total", [(t, 1)], stage=SECRET),
        # native_histogram: 2 histogram samples.
        Series({"__name__": "livepeer_transcode_time_seconds", "node_id": NODE}, histograms=[t, t]),
    ]
    async with httpx.AsyncClient(base_url=limited_url, timeout=30) as http:
        await send_series(http, orch.token, mix)
        # series_limit: 10 new series at once, over the limit of 8 (3 active already).
        many = [
            node_series("livepeer_tickets_recv", [(t, 1)], sender=f"0x{i:040x}") for i in range(10)
        ]
        assert (await send(http, orch.token, v1_body(many))).status_code == 429
        # rate_limit: one request costing the whole burst when part of it is spent.
        flood = [node_series("livepeer_max_sessions_total", [(t + i, 1) for i in range(3000)])]
        answer = await send(http, orch.token, v1_body(flood))
        assert answer.status_code == 429 and "samples/s" in answer.text
        # invalid: a sample older than the raw retention (400, never retried).
        too_old = [node_series("livepeer_tickets_recv", [(t - 400 * 86_400_000, 1)])]
        assert (await send(http, orch.token, v1_body(too_old))).status_code == 400
        assert (await send(http, orch.token, b"not snappy")).status_code == 400
        # Another orchestrator's data, stored and dropped, must not show.
        other_node = f"{OTHER_ADDRESS}-orch-sin-1"
        await send_series(
            http,
            other.token,
            [
                node_series("livepeer_current_sessions_total", [(t, 1)], node=other_node),
                Series({"__name__": "other_only", "zone": "x"}, [(t, 1)]),
            ],
        )

        found = await settled(
            http, read, lambda s: len(s["refusals"]) == 3 and s["refusals"][2]["requests"] == 2
        )
        assert found["address"] == ADDRESS
        ingest = found["ingest"]
        assert ingest["receiving"] is True
        assert ingest["storedSamples"] == 5
        assert [n["name"] for n in ingest["nodes"]] == [NODE]
        assert ingest["nodes"][0]["newestSampleAt"] is not None
        assert ingest["activeSeries"] == 3
        assert (ingest["seriesLimit"], ingest["samplesPerSecondLimit"]) == (MAX_SERIES, RATE)
        assert len(ingest["minutes"]) == 60
        minutes = ingest["minutes"]
        assert sum(m["storedSamples"] for m in minutes) == 5
        assert sum(m["receivedSamples"] for m in minutes) == 15  # float samples
        assert sum(m["droppedSamples"] for m in minutes) == 12  # native histograms too
        assert sum(m["refusedSamples"] for m in minutes) == 3010
        drops = {d["reason"]: d for d in ingest["drops"]}
        assert {r: (d["samples"], d["series"]) for r, d in drops.items()} == {
            "NOT_ALLOWLISTED": (4, 2),
            "NO_NODE_ID": (1, 1),
            "INVALID_NODE_ID": (1, 1),
            "LOOPBACK_DEVICE": (2, 1),
            "NOT_SHARED": (1, 1),
            "NON_FINITE": (1, 1),
            "NATIVE_HISTOGRAM": (2, None),
        }
        # Label names, never values; metric names only of the service's own allowlist.
        assert drops["NOT_ALLOWLISTED"]["labelNames"] == ["__name__", "job", "node_id", "pod"]
        assert drops["NOT_ALLOWLISTED"]["metrics"] == []
        assert drops["NO_NODE_ID"]["labelNames"] == ["__name__", "instance", "job"]
        assert drops["NO_NODE_ID"]["metrics"] == ["livepeer_current_sessions_total"]
        assert "device" in drops["LOOPBACK_DEVICE"]["labelNames"]
        assert drops["NOT_SHARED"]["metrics"] == ["livepeer_segment_transcode_failed_total"]
        refusals = {r["reason"]: (r["requests"], r["samples"]) for r in ingest["refusals"]}
        assert refusals == {"SERIES_LIMIT": (1, 10), "RATE_LIMIT": (1, 3000), "INVALID": (2, 0)}
        last = {r["reason"]: r["lastMessage"] for r in ingest["refusals"]}
        assert "snappy" in last["INVALID"]
        assert "active series" in last["SERIES_LIMIT"] and "samples/s" in last["RATE_LIMIT"]

        text = json.dumps(ingest)
        for leaked in (SECRET, "secret_metric", "go_goroutines", long_node, "other_only", "zone"):
            assert leaked not in text

        # The other orchestrator sees its own status only.
        theirs = (
            await settled(http, other_read, lambda s: s["storedSamples"] == 1 and s["drops"])
        )["ingest"]
        assert [n["name"] for n in theirs["nodes"]] == [other_node]
        assert theirs["refusals"] == []
        assert [(d["reason"], d["samples"], d["labelNames"]) for d in theirs["drops"]] == [
            ("NOT_ALLOWLISTED", 1, ["__name__", "zone"])
        ]


async def test_anonymous_viewer_has_no_ingest_status(quiet_url: str) -> None:
    async with httpx.AsyncClient(base_url=quiet_url) as http:
        query = "{ viewer { ingest { receiving } } }"
        response = await http.post("/graphql", json={"query": query})
    assert response.json() == {"data": {"viewer": {"ingest": None}}}


async def test_nothing_received_yet(services: Services, quiet_url: str) -> None:
    await register(services, ADDRESS)
    _, read = await create_token(services.db, ADDRESS, "status script", ["read"])
    async with httpx.AsyncClient(base_url=quiet_url) as http:
        ingest = (await status(http, read))["ingest"]
    assert ingest["receiving"] is False
    assert ingest["lastStoredAt"] is None and ingest["nodes"] == []
    assert ingest["drops"] == ingest["refusals"] == []
    assert ingest["storedSamples"] == 0
