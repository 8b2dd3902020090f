"""The chain sync as deployed: the background worker of a running server (under its
leader lock, every LPM_SUBGRAPH_SYNC_SECONDS, failures on /metrics while everything
else keeps answering), and ``lpmetrics registry sync``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from api.chain.simulated import SimulatedChain, subgraph_app
from api.chain.sync import chain_worker, state
from api.core.services import Services
from api.core.settings import Settings
from tests.support.cli_env import cli_process, process_env
from tests.support.services import free_port, running_server, serving

ORCH = "0x" + "c3" * 20
SENDER = "0x" + "d4" * 20


def recent(chain: SimulatedChain, count: int) -> None:
    now = int(time.time())
    chain.add_transcoder(ORCH, stake=5)
    for i in range(count):
        chain.redeem(f"0x{i:04x}-1", now - 3600 + i, ORCH, SENDER, "0.05", 0.01)


@pytest.fixture
async def subgraph() -> AsyncIterator[tuple[SimulatedChain, str]]:
    chain = SimulatedChain()
    async with serving(subgraph_app(chain)) as url:
        yield chain, url


async def _until(check, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "gave up waiting"
        await asyncio.sleep(0.2)


async def test_the_worker_syncs_and_reports_on_metrics(
    services: Services, settings: Settings, subgraph: tuple[SimulatedChain, str]
) -> None:
    chain, url = subgraph
    recent(chain, 30)
    configured = settings.model_copy(update={"subgraph_url": url, "subgraph_sync_seconds": 10})
    async with running_server(configured, workers=[chain_worker]) as base:

        async def synced() -> bool:
            return (await state(services.db)).synced_at is not None

        await _until(synced)
        assert await services.db.fetchval("SELECT count(*) FROM chain_redemptions") == 30
        assert await services.db.fetchval("SELECT count(*) FROM orchestrators") == 1
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            metrics = (await http.get("/metrics")).text
    assert "lpm_chain_sync_lag_seconds" in metrics
    assert "lpm_chain_redemptions_synced_total" in metrics


async def test_an_unreachable_subgraph_affects_nothing_else(
    services: Services, settings: Settings
) -> None:
    gone = f"http://127.0.0.1:{free_port()}/"
    configured = settings.model_copy(update={"subgraph_url": gone, "subgraph_sync_seconds": 10})
    async with running_server(configured, workers=[chain_worker]) as base:

        async def failed() -> bool:
            return (await state(services.db)).failures >= 1

        await _until(failed)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            assert (await http.get("/readyz")).status_code == 200
            answer = await http.post(
                "/graphql",
                json={
                    "query": "{ network { avgStreams estimate { avgStreams { value } reason } } }"
                },
            )
            network = answer.json()["data"]["network"]
            assert network["avgStreams"] == 0
            assert network["estimate"]["avgStreams"] is None
            assert "could not be reached" in network["estimate"]["reason"]
            metrics = (await http.get("/metrics")).text
    failures = [
        line for line in metrics.splitlines() if line.startswith("lpm_chain_sync_failures_total")
    ]
    assert failures and float(failures[0].split()[-1]) >= 1


async def test_registry_sync_also_syncs_redemptions(
    services: Services, settings: Settings, subgraph: tuple[SimulatedChain, str], tmp_path: Path
) -> None:
    chain, url = subgraph
    recent(chain, 12)
    env = process_env(settings, tmp_path)
    status, out, err = await cli_process("registry", "sync", "--subgraph-url", url, env=env)
    assert status == 0, err
    assert "synced 1 orchestrators" in out
    assert "synced 12 new winning-ticket redemptions" in out
    # Again: nothing new, nothing twice.
    status, out, _ = await cli_process("registry", "sync", "--subgraph-url", url, env=env)
    assert status == 0 and "synced 0 new" in out
    assert await services.db.fetchval("SELECT count(*) FROM chain_redemptions") == 12
    assert (await state(services.db)).synced_at <= datetime.now(UTC)
