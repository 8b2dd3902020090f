"""End to end, the convergence sources: a real node_exporter (Debian's
prometheus-node-exporter) with its textfile collector reading per-port counters from a
file the test writes as the recipe of docs/convergence.md does, scraped with a
go-livepeer-like exporter by a real Prometheus agent configured with the block
``lpmetrics token create`` prints; the NIC and port byte counters land in the rollups."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.core.services import Services
from api.core.settings import Settings
from api.ingest.sharing import set_shared_metrics
from tests.support.processes import logged_process
from tests.support.prometheus import (
    ADDRESS,
    NODE,
    agent_config,
    exporter,
    ingest_block,
    prometheus_agent,
    wait_for,
)
from tests.support.services import free_port, running_server

NODE_EXPORTER = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("prometheus") is None,
        reason="needs the prometheus binary (apt-get install prometheus)",
    ),
    pytest.mark.skipif(
        NODE_EXPORTER is None,
        reason="needs node_exporter (apt-get install prometheus-node-exporter)",
    ),
]

NIC = ["node_network_receive_bytes_total", "node_network_transmit_bytes_total"]
PORT = ["lpm_port_receive_bytes_total", "lpm_port_transmit_bytes_total"]
FIRST = (1_000_000, 5_000_000)
# What the port counters read once the test has seen them arrive.
LATER = (1_250_000, 6_000_000)


def write_port_counters(directory: Path, rx: int, tx: int) -> None:
    """What the recipe's script writes, the same way: a whole new file moved in place,
    so node_exporter never reads half of one."""
    text = (
        "# HELP lpm_port_receive_bytes_total Bytes received on the orchestrator's port.\n"
        "# TYPE lpm_port_receive_bytes_total counter\n"
        f'lpm_port_receive_bytes_total{{port="8935"}} {rx}\n'
        "# HELP lpm_port_transmit_bytes_total Bytes sent from the orchestrator's port.\n"
        "# TYPE lpm_port_transmit_bytes_total counter\n"
        f'lpm_port_transmit_bytes_total{{port="8935"}} {tx}\n'
    )
    (directory / "lpm_port.prom.tmp").write_text(text)
    (directory / "lpm_port.prom.tmp").rename(directory / "lpm_port.prom")


@contextlib.asynccontextmanager
async def node_exporter(textfiles: Path, log: Path) -> AsyncIterator[str]:
    port = free_port()
    command = [
        NODE_EXPORTER,  # type: ignore[list-item]
        f"--web.listen-address=127.0.0.1:{port}",
        "--collector.disable-defaults",
        "--collector.netdev",
        # Export loopback too (excluded by default): the agent must drop it.
        "--collector.netdev.device-exclude=^$",
        "--collector.textfile",
        f"--collector.textfile.directory={textfiles}",
    ]
    async with logged_process(command, log):
        yield f"127.0.0.1:{port}"


async def _scrape(target: str) -> str:
    async with httpx.AsyncClient() as http:
        for _ in range(100):
            with contextlib.suppress(httpx.TransportError):
                response = await http.get(f"http://{target}/metrics")
                if response.status_code == 200:
                    return response.text
            await asyncio.sleep(0.1)
    raise AssertionError("node_exporter did not come up")


async def test_node_exporter_nic_and_port_counters_reach_the_rollups(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    await services.db.execute(
        "INSERT INTO orchestrators (address, active) VALUES ($1, true)", ADDRESS
    )
    await set_shared_metrics(services.db, ADDRESS, NIC + PORT)
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    write_port_counters(textfiles, *FIRST)
    async with running_server(settings) as url:
        block = await ingest_block(settings, url, ADDRESS)
        async with contextlib.AsyncExitStack() as stack:
            livepeer = stack.enter_context(exporter())
            node = await stack.enter_async_context(
                node_exporter(textfiles, tmp_path / "node_exporter.log")
            )
            exposed = await _scrape(node)
            # The guide's config: both targets, node_exporter given the node's node_id.
            config = tmp_path / "prometheus.yml"
            jobs = (
                "  - job_name: livepeer\n"
                f"    static_configs: [{{targets: ['{livepeer}']}}]\n"
                "  - job_name: node\n"
                f"    static_configs: [{{targets: ['{node}'], labels: {{node_id: '{NODE}'}}}}]\n"
            )
            config.write_text(agent_config(jobs, block))
            log = tmp_path / "prometheus.log"
            async with prometheus_agent(config, tmp_path) as (proc, _prom_url):
                # NIC counters rolled up (NULL: not shared or not arrived). Not "> 0":
                # this machine's interfaces other than loopback may be idle for minutes.
                await wait_for(
                    services, proc, log,
                    "SELECT count(*) FROM node_minutes"
                    " WHERE nic_rx_bytes IS NOT NULL AND nic_tx_bytes IS NOT NULL",
                )  # fmt: skip
                # The port counters came with that scrape: now they move on.
                write_port_counters(textfiles, *LATER)
                await wait_for(
                    services, proc, log,
                    f"SELECT sum(port_rx_bytes) = {LATER[0] - FIRST[0]}"
                    f" AND sum(port_tx_bytes) = {LATER[1] - FIRST[1]} FROM node_minutes",
                )  # fmt: skip

    # node_exporter exported every interface; loopback never left the agent.
    devices = set(re.findall(r'^node_network_receive_bytes_total\{device="([^"]+)"', exposed, re.M))
    assert "lo" in devices
    stored = await services.db.fetchval(
        "SELECT count(*) FROM series WHERE metric = 'node_network_receive_bytes_total'"
    )
    assert stored == len(devices - {"lo"}) > 0
    # One node: go-livepeer's series and node_exporter's, tied by node_id.
    names = [r["name"] for r in await services.db.fetch("SELECT name FROM nodes")]
    assert names == [NODE]
    metrics = set(await services.db.fetchval("SELECT array_agg(DISTINCT metric) FROM series"))
    assert set(NIC + PORT) <= metrics
    assert "livepeer_mil_pixels_processed" in metrics
