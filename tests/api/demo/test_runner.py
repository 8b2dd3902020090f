"""The demo network writing to a real server through ``/api/v1/write``, and the
rollups that come out of it."""

import time
from collections.abc import AsyncIterator

import pytest

from api.core.services import Services
from api.core.settings import Settings
from api.demo.install import install
from api.demo.network import build_network
from api.demo.runner import DemoLoad, DemoOptions
from api.demo.writer import RemoteWriter, Unauthorized
from api.rollup.minutes import roll_up
from tests.support.services import running_server


@pytest.fixture
async def url(services: Services, settings: Settings) -> AsyncIterator[str]:
    """A server without background workers: the test rolls up itself."""
    async with running_server(settings, workers=[]) as base:
        yield base


async def test_backfill_and_catch_up_reach_the_rollups(services: Services, url: str) -> None:
    network = build_network(8, seed=2)
    installed = await install(services, network)
    options = DemoOptions(orchestrators=8, seed=2, scrape_interval=15, backfill_step=60)
    now = time.time()
    async with RemoteWriter(url) as writer:
        await DemoLoad(network, installed.tokens, writer, options).run(
            start=now - 20 * 60, until=now
        )
        assert writer.stats.rejected == 0 and writer.stats.retries == 0
        assert writer.stats.samples > 0
    async with services.db.acquire() as conn:
        assert await roll_up(conn) > 0

    rows = await services.db.fetch(
        """
        SELECT n.orchestrator, n.name, count(*) AS minutes, bool_or(m.has_senders) AS senders,
               bool_and(m.sessions_max <= m.capacity) AS within, sum(m.mil_pixels) AS pixels,
               min(m.minute) AS first, max(m.minute) AS last
        FROM node_minutes m JOIN nodes n ON n.id = m.node
        GROUP BY 1, 2
        """
    )
    by_node = {(r["orchestrator"], r["name"]): r for r in rows}
    per_stream = {o.address.lower(): o.per_stream for o in network.reporting}
    assert set(by_node) == {(o.address.lower(), n.node_id) for o, n in network.nodes}
    for (address, _), row in by_node.items():
        assert row["within"]
        assert row["minutes"] >= 18
        # Senders come with per-stream metrics only, and every node of such an
        # orchestrator that transcoded in the window saw one. Not the converse: a
        # redemption carries its sender in a minute without pixels, and with 8
        # orchestrators a node may have no stream at all in 20 minutes.
        if row["senders"]:
            assert per_stream[address], dict(row)
        if per_stream[address] and (row["pixels"] or 0) > 0:
            assert row["senders"], dict(row)
        assert row["last"].timestamp() >= now - 180
    assert any(r["pixels"] > 0 for r in rows)

    # One broadcaster (keyed hash) pays several orchestrators.
    shared = await services.db.fetchval(
        """
        SELECT max(c) FROM (
            SELECT count(DISTINCT n.orchestrator) AS c
            FROM node_minute_senders s JOIN nodes n ON n.id = s.node GROUP BY s.sender) t
        """
    )
    assert shared >= 2


async def test_tokens_the_server_does_not_know_stop_the_run(services: Services, url: str) -> None:
    network = build_network(4, seed=2)
    await install(services, network)
    wrong = {o.address: "lpm_" + "x" * 43 for o in network.reporting}
    async with RemoteWriter(url) as writer:
        load = DemoLoad(network, wrong, writer, DemoOptions(orchestrators=4, seed=2))
        with pytest.raises(Unauthorized):
            await load.run(start=time.time() - 600)
