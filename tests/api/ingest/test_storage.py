"""Storing requests whole or not at all, exactly once, while PostgreSQL comes and goes."""

from __future__ import annotations

import asyncio

import httpx

from api.core.services import Services
from api.core.settings import Settings
from api.ingest.partitions import existing_partitions
from tests.support.ingest import Orchestrator, node_series, now_ms, send
from tests.support.proxy import proxied
from tests.support.remote_write_bodies import v1_body
from tests.support.services import running_server

BATCHES = 40
SERIES = 50


def batch_body(k: int, start_ms: int) -> bytes:
    """Scrape ``k``: every series one sample, as a Prometheus shard sends them."""
    return v1_body(
        [
            node_series(
                "livepeer_segment_transcoded_total", [(start_ms + k * 1000, k)], profiles=f"p{i}"
            )
            for i in range(SERIES)
        ]
    )


async def test_postgres_down_mid_stream_loses_and_duplicates_nothing(
    services: Services, settings: Settings, orch: Orchestrator
) -> None:
    """A sender that behaves like Prometheus (each batch in order, retried on 503 until
    stored) keeps sending while PostgreSQL goes away and comes back: it sees 503s, and
    in the end every sample is stored exactly once."""
    start = now_ms() - 120_000
    bodies = [batch_body(k, start) for k in range(BATCHES)]
    answers: list[int] = []
    stored_before_cut = asyncio.Event()
    refused = asyncio.Event()

    async with proxied(settings.database_url) as (pg, pg_url):
        app = settings.model_copy(update={"database_url": pg_url})
        async with running_server(app, workers=[]) as url, httpx.AsyncClient(base_url=url) as http:

            async def prometheus() -> None:
                for k, body in enumerate(bodies):
                    while True:
                        response = await send(http, orch.token, body)
                        answers.append(response.status_code)
                        if response.status_code == 204:
                            break
                        assert response.status_code == 503, response.text
                        refused.set()
                        await asyncio.sleep(0.02)
                    if k == BATCHES // 4:
                        stored_before_cut.set()

            sender = asyncio.create_task(prometheus())
            await stored_before_cut.wait()
            await pg.cut()
            await refused.wait()
            pg.restore()
            await sender

    assert 503 in answers and answers.count(204) == BATCHES
    assert await services.db.fetchval("SELECT count(*) FROM ingest_batches") == BATCHES
    # Every (series, timestamp) once, and all of them.
    counts = await services.db.fetchrow(
        """
        SELECT count(*) AS samples, count(DISTINCT (u.series, c.minute, u.off)) AS distinct_samples
        FROM samples c CROSS JOIN LATERAL unnest(c.series, c.offsets) AS u (series, off)
        """
    )
    assert (counts["samples"], counts["distinct_samples"]) == (BATCHES * SERIES, BATCHES * SERIES)
    assert await services.db.fetchval("SELECT count(*) FROM rollup_queue") == BATCHES


async def test_a_missing_day_partition_is_created_on_the_way(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    for name in (await existing_partitions(services.db)).values():
        await services.db.execute(f"DROP TABLE {name}")
    response = await send(http, orch.token, batch_body(0, now_ms() - 60_000))
    assert response.status_code == 204, response.text
    assert len(await existing_partitions(services.db)) == 1
    assert await services.db.fetchval("SELECT count(*) FROM samples") > 0


async def test_deleted_nodes_are_recreated_not_referenced(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    """Data deleted under a running server (e.g. an orchestrator deleting its data) must
    not leave the server pointing at rows that are gone."""
    t = now_ms() - 60_000
    assert (await send(http, orch.token, batch_body(0, t))).status_code == 204
    await services.db.execute("DELETE FROM nodes")
    response = await send(http, orch.token, batch_body(1, t))
    assert response.status_code == 204, response.text
    assert await services.db.fetchval("SELECT count(*) FROM series") == SERIES
    assert await services.db.fetchval("SELECT count(*) FROM nodes") == 1
