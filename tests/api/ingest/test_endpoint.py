"""``POST /api/v1/write`` over real HTTP: every answer of DESIGN §5 with real bodies."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from api.core.services import Services
from api.core.settings import Settings
from api.ingest.endpoint import MAX_FUTURE_SECONDS
from api.ingest.sharing import set_shared_metrics
from auth.tokens import create_token, revoke_token
from tests.support.ingest import (
    ADDRESS,
    NODE,
    Orchestrator,
    minute_start_ms,
    node_series,
    now_ms,
    send,
    send_series,
)
from tests.support.proxy import proxied
from tests.support.remote_write_bodies import (
    V1_HEADERS,
    V1_HEADERS_EXPLICIT,
    V2_HEADERS,
    Series,
    compress,
    livepeer_series,
    v1_body,
    v2_body,
)
from tests.support.services import running_server

WRITTEN = "X-Prometheus-Remote-Write-Samples-Written"


def value(metrics: str, name: str) -> float:
    """A sample's value in a /metrics exposition (0 when absent)."""
    match = re.search(rf"^{re.escape(name)} (\S+)$", metrics, re.M)
    return float(match[1]) if match else 0.0


async def stored_samples(services: Services) -> int:
    return await services.db.fetchval("SELECT coalesce(sum(cardinality(series)), 0) FROM samples")


@pytest.mark.parametrize("headers", [V1_HEADERS, V1_HEADERS_EXPLICIT], ids=["bare", "proto"])
async def test_v1_is_stored(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = v1_body(livepeer_series(2000, timestamp_ms=now_ms() - 60_000))
    response = await send(http, orch.token, body, headers)
    assert response.status_code == 204, response.text
    assert WRITTEN not in response.headers  # 1.0 has no such headers
    assert await stored_samples(services) == 2000
    node = await services.db.fetchrow("SELECT name, node_type, last_seen FROM nodes")
    assert (node["name"], node["node_type"]) == (
        "0x5Be44e23041E93CDF9bCd5A0968524e104e38ae1-orch-fra-1",
        "orch",
    )
    assert node["last_seen"] is not None


async def test_v2_reports_what_was_written(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    t = now_ms() - 60_000
    series = [
        *livepeer_series(10, timestamp_ms=t, samples_per_series=3),
        Series({"__name__": "go_goroutines", "node_id": NODE}, [(t, 214)]),
        Series({"__name__": "livepeer_current_sessions_total", "node_id": NODE}, histograms=[t]),
    ]
    response = await send(http, orch.token, v2_body(series), V2_HEADERS)
    assert response.status_code == 204, response.text
    assert response.headers[WRITTEN] == "30"
    assert response.headers["X-Prometheus-Remote-Write-Histograms-Written"] == "0"
    assert response.headers["X-Prometheus-Remote-Write-Exemplars-Written"] == "0"
    assert await stored_samples(services) == 30


async def test_retried_request_is_stored_once(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    body = v2_body(livepeer_series(50, timestamp_ms=now_ms() - 60_000))
    first = await send(http, orch.token, body, V2_HEADERS)
    # The answer was lost on the way: Prometheus sends the same request again.
    again = await send(http, orch.token, body, V2_HEADERS)
    assert (first.status_code, again.status_code) == (204, 204)
    assert first.headers[WRITTEN] == again.headers[WRITTEN] == "50"
    assert await stored_samples(services) == 50
    assert await services.db.fetchval("SELECT count(*) FROM ingest_batches") == 1


async def test_same_body_from_two_orchestrators_is_two_batches(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    from tests.support.ingest import OTHER_ADDRESS, register

    other = await register(services, OTHER_ADDRESS)
    body = v1_body(livepeer_series(20, timestamp_ms=now_ms() - 60_000))
    for token in (orch.token, other.token):
        assert (await send(http, token, body)).status_code == 204
    assert await stored_samples(services) == 40


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not snappy at all", "snappy"),
        (compress(b"\xff\xff\xff not protobuf"), "protobuf"),
        (
            v1_body([([("node_id", NODE), ("__name__", "livepeer_tickets_recv")], [(1, 1.0)])]),
            "sorted",
        ),
        (v1_body([({"__name__": "livepeer_tickets_recv", "node_id": NODE}, [])]), "no samples"),
    ],
    ids=["not-snappy", "not-protobuf", "unsorted-labels", "no-samples"],
)
async def test_malformed_or_invalid_is_400(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient, body: bytes, message: str
) -> None:
    response = await send(http, orch.token, body)
    assert response.status_code == 400
    assert message in response.text
    assert await stored_samples(services) == 0


@pytest.mark.parametrize("when", ["too-old", "future"])
async def test_timestamps_outside_the_window_are_400_and_nothing_is_stored(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient, settings: Settings, when: str
) -> None:
    day = 86_400_000
    bad = (
        now_ms() - (settings.raw_retention_days + 1) * day
        if when == "too-old"
        else now_ms() + (MAX_FUTURE_SECONDS + 60) * 1000
    )
    good = node_series("livepeer_tickets_recv", [(now_ms() - 60_000, 1)])
    response = await send(
        http, orch.token, v1_body([good, node_series("livepeer_tickets_recv", [(bad, 2)], x="y")])
    )
    assert response.status_code == 400
    assert "outside the accepted range" in response.text
    assert await stored_samples(services) == 0


@pytest.mark.parametrize("auth", ["none", "basic", "unknown", "revoked", "read-scope", "malformed"])
async def test_token_problems_are_401(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient, auth: str
) -> None:
    body = v1_body(livepeer_series(5, timestamp_ms=now_ms()))
    headers = dict(V1_HEADERS)
    if auth == "basic":
        headers["Authorization"] = "Basic dXNlcjpwYXNz"
    elif auth == "unknown":
        headers["Authorization"] = "Bearer lpm_" + "A" * 43
    elif auth == "malformed":
        headers["Authorization"] = "Bearer " + "x" * 5000
    elif auth == "revoked":
        assert await revoke_token(services.db, orch.token)
        headers["Authorization"] = f"Bearer {orch.token}"
    elif auth == "read-scope":
        _, read = await create_token(services.db, ADDRESS, "script", ["read"])
        headers["Authorization"] = f"Bearer {read}"
    response = await http.post("/api/v1/write", content=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert await stored_samples(services) == 0


async def test_401_comes_before_anything_about_the_body(http: httpx.AsyncClient, orch) -> None:
    response = await send(http, None, b"junk", {"Content-Type": "text/plain"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {**V1_HEADERS, "Content-Type": "application/json"},
        {**V1_HEADERS, "Content-Encoding": "gzip"},
        {k: v for k, v in V1_HEADERS.items() if k != "Content-Encoding"},
        {
            **V1_HEADERS,
            "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v3.Request",
        },
    ],
    ids=["json", "gzip", "no-encoding", "unknown-proto"],
)
async def test_wrong_content_type_or_encoding_is_415(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await send(
        http, orch.token, v1_body(livepeer_series(5, timestamp_ms=now_ms())), headers
    )
    assert response.status_code == 415
    assert await stored_samples(services) == 0


async def test_too_large_is_413(services: Services, settings: Settings, orch: Orchestrator) -> None:
    small = settings.model_copy(update={"ingest_max_body_bytes": 1000})
    body = v1_body(livepeer_series(200, timestamp_ms=now_ms()))
    assert len(body) > 1000
    async with running_server(small, workers=[]) as url, httpx.AsyncClient(base_url=url) as http:
        declared = await send(http, orch.token, body)

        async def chunked():  # no Content-Length: the limit applies while reading
            yield body[:600]
            yield body[600:]

        streamed = await http.post(
            "/api/v1/write",
            content=chunked(),
            headers={**V1_HEADERS, "Authorization": f"Bearer {orch.token}"},
        )
    assert (declared.status_code, streamed.status_code) == (413, 413)
    assert await stored_samples(services) == 0


async def test_over_the_rate_is_429_with_retry_after(
    services: Services, settings: Settings, orch: Orchestrator
) -> None:
    slow = settings.model_copy(update={"ingest_samples_per_second": 1})  # burst: 300 samples
    t = minute_start_ms()
    async with running_server(slow, workers=[]) as url, httpx.AsyncClient(base_url=url) as http:
        first = await send(http, orch.token, v1_body(livepeer_series(300, timestamp_ms=t)))
        second = await send(http, orch.token, v1_body(livepeer_series(300, timestamp_ms=t + 1)))
    assert first.status_code == 204
    assert second.status_code == 429
    assert 250 <= int(second.headers["Retry-After"]) <= 300
    assert "samples/s" in second.text
    assert await stored_samples(services) == 300


async def test_over_the_series_limit_is_429(
    services: Services, settings: Settings, orch: Orchestrator
) -> None:
    few = settings.model_copy(update={"ingest_max_series": 3})
    t = minute_start_ms()
    seg = "livepeer_segment_transcoded_total"

    def body(streams: range, ts: int) -> bytes:
        return v1_body([node_series(seg, [(ts, 1)], profiles=f"p{i}") for i in streams])

    async with running_server(few, workers=[]) as url, httpx.AsyncClient(base_url=url) as http:
        too_many = await send(http, orch.token, body(range(4), t))
        within = await send(http, orch.token, body(range(3), t))
        one_more = await send(http, orch.token, body(range(3, 4), t + 1000))
        known = await send(http, orch.token, body(range(3), t + 1000))
    assert [r.status_code for r in (too_many, within, one_more, known)] == [429, 204, 429, 204]
    assert int(too_many.headers["Retry-After"]) > 0
    assert "active series" in too_many.text
    assert await stored_samples(services) == 6


async def test_postgres_down_is_503_redis_down_is_not_and_both_recover(
    services: Services, settings: Settings, orch: Orchestrator
) -> None:
    body = v1_body(livepeer_series(10, timestamp_ms=now_ms() - 60_000))
    async with (
        proxied(settings.database_url) as (pg, pg_url),
        proxied(settings.redis_url) as (redis, redis_url),
    ):
        app = settings.model_copy(update={"database_url": pg_url, "redis_url": redis_url})
        async with running_server(app, workers=[]) as url, httpx.AsyncClient(base_url=url) as http:
            await pg.cut()
            pg_down = await send(http, orch.token, body)
            pg.restore()
            await redis.cut()
            redis_down = await send(http, orch.token, body)
            redis.restore()
            back = await send(http, orch.token, body)
    # Without Redis the limits are kept per process (tests/api/test_without_redis.py).
    assert (pg_down.status_code, redis_down.status_code, back.status_code) == (503, 204, 204)
    assert pg_down.headers["Retry-After"] == "5"
    assert await stored_samples(services) == 10


async def test_only_allowlisted_and_shared_metrics_are_kept(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    before = (await http.get("/metrics")).text
    t = now_ms() - 60_000
    kept = node_series("livepeer_tickets_recv", [(t, 1)])
    await send_series(
        http,
        orch.token,
        [
            kept,
            Series({"__name__": "go_goroutines", "instance": "x"}, [(t, 214)]),
            node_series("livepeer_versions", [(t, 1)], livepeerversion="0.8.5"),
            node_series("livepeer_source_segment_duration_seconds_bucket", [(t, 1)], le="2"),
            node_series("livepeer_value_redeemed", [(t, 5)]),  # optional, not shared
            Series({"__name__": "livepeer_max_sessions_total"}, [(t, 1)]),  # no node_id
            node_series("livepeer_tickets_recv", [(t, float("nan"))], stream="nan"),
        ],
    )
    assert await services.db.fetchval("SELECT array_agg(metric) FROM series") == [
        "livepeer_tickets_recv"
    ]
    await set_shared_metrics(services.db, orch.address, ["livepeer_value_redeemed"])
    await send_series(http, orch.token, [node_series("livepeer_value_redeemed", [(t, 5)])])
    assert sorted(await services.db.fetchval("SELECT array_agg(metric) FROM series")) == [
        "livepeer_tickets_recv",
        "livepeer_value_redeemed",
    ]

    after = (await http.get("/metrics")).text
    for reason, count in [
        ("not_allowlisted", 3),
        ("not_shared", 1),
        ("no_node_id", 1),
        ("non_finite", 1),
    ]:
        name = (
            f'lpm_ingest_dropped_samples_total{{orchestrator="{orch.address}",reason="{reason}"}}'
        )
        assert value(after, name) - value(before, name) == count, reason


async def test_self_metrics_count_requests_and_samples(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    before = (await http.get("/metrics")).text
    await send_series(http, orch.token, livepeer_series(20, timestamp_ms=now_ms() - 60_000))
    await send(http, None, b"")
    after = (await http.get("/metrics")).text
    for name, delta in [
        ('lpm_ingest_requests_total{status="204"}', 1),
        ('lpm_ingest_requests_total{status="401"}', 1),
        ('lpm_ingest_samples_total{outcome="received",reason=""}', 20),
        ('lpm_ingest_samples_total{outcome="stored",reason=""}', 20),
        ("lpm_ingest_duration_seconds_count", 2),
    ]:
        assert value(after, name) - value(before, name) == delta, name


async def test_concurrent_first_requests_create_each_series_once(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    t = now_ms() - 60_000
    bodies = [v1_body(livepeer_series(200, timestamp_ms=t + k)) for k in range(4)]
    responses = await asyncio.gather(*(send(http, orch.token, b) for b in bodies))
    assert [r.status_code for r in responses] == [204] * 4
    assert await services.db.fetchval("SELECT count(*) FROM series") == 200
    assert await services.db.fetchval("SELECT count(*) FROM nodes") == 1


async def test_a_sender_gone_mid_body_is_a_warning_not_an_error(
    services: Services, settings: Settings, orch: Orchestrator, caplog: pytest.LogCaptureFixture
) -> None:
    """A Prometheus that gave up (its remote_timeout) while the body was read: nothing
    stored, no traceback, counted as 499."""
    body = v1_body(livepeer_series(200, timestamp_ms=now_ms()))
    async with running_server(settings, workers=[]) as url, httpx.AsyncClient(base_url=url) as http:
        host, port = url.removeprefix("http://").split(":")
        _reader, writer = await asyncio.open_connection(host, int(port))
        head = [
            "POST /api/v1/write HTTP/1.1",
            f"Host: {host}",
            f"Authorization: Bearer {orch.token}",
            *(f"{k}: {v}" for k, v in V1_HEADERS.items()),
            f"Content-Length: {len(body)}",
        ]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body[: len(body) // 2])
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        for _ in range(100):
            metrics = (await http.get("/metrics")).text
            if value(metrics, 'lpm_ingest_requests_total{status="499"}'):
                break
            await asyncio.sleep(0.05)
    assert value(metrics, 'lpm_ingest_requests_total{status="499"}') == 1
    assert await stored_samples(services) == 0
    ours = [r for r in caplog.records if r.name == "api.ingest.endpoint"]
    assert ours and all(r.levelname == "WARNING" and r.exc_info is None for r in ours)


async def test_known_series_store_each_requests_samples(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    """The second request's series are all known: it takes the known-series path."""
    t = now_ms() - 120_000
    first = livepeer_series(60, timestamp_ms=t)
    second = [Series(s.labels, [(ts + 15_000, v + 0.5)]) for s in first for ts, v in s.samples]
    third = [
        Series(s.labels, [(ts, float("nan") if i % 2 else v)])
        for i, s in enumerate(second)
        for ts, v in s.samples
    ]
    for items in (first, second):
        response = await send(http, orch.token, v1_body(items), V1_HEADERS)
        assert response.status_code == 204, response.text
    rows = await services.db.fetch("SELECT series, minute, offsets, vals FROM samples")
    got = sorted(
        (series, int(row["minute"].timestamp() * 1000) + offset, value)
        for row in rows
        for series, offset, value in zip(row["series"], row["offsets"], row["vals"], strict=True)
    )
    assert len({series for series, _, _ in got}) == 60  # the same 60 series both times
    assert sorted((ts, v) for _, ts, v in got) == sorted(
        (ts, v) for s in first + second for ts, v in s.samples
    )
    # Every series has its own two samples, 15 s apart, the second 0.5 more.
    by_series: dict[int, list[tuple[int, float]]] = {}
    for series, ts, v in got:
        by_series.setdefault(series, []).append((ts, v))
    assert all(b[0] - a[0] == 15_000 and b[1] - a[1] == 0.5 for a, b in by_series.values())
    response = await send(http, orch.token, v1_body(third), V1_HEADERS)
    assert response.status_code == 204, response.text
    assert await stored_samples(services) == 150  # NaN is not stored: dropped as non_finite
