"""End to end: a real Prometheus (Debian's 2.42) in agent mode, configured with a scrape
job and nothing but the block ``lpmetrics token create`` printed, delivers a
go-livepeer-like exporter's metrics; allowlisted data arrives and is rolled up, the
rest never reaches the database."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from api.core.services import Services
from api.core.settings import Settings
from api.ingest.allowlist import BY_SERIES
from api.ingest.labels import sender_hash
from tests.support.cli_env import lpmetrics
from tests.support.services import free_port, running_server

PROMETHEUS = shutil.which("prometheus")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        PROMETHEUS is None,
        reason="needs the prometheus binary (apt-get install prometheus)",
    ),
]

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "go-livepeer-orch.prom"
ADDRESS = "0x5be44e23041e93cdf9bcd5a0968524e104e38ae1"
NODE = "0x5Be44e23041E93CDF9bCd5A0968524e104e38ae1-orch-fra-1"
GAUGES = ("livepeer_current_sessions_total", "livepeer_max_sessions_total", "livepeer_versions")
DEADLINE_SECONDS = 120


class Exporter(BaseHTTPRequestHandler):
    """Serves the fixture like go-livepeer's /metrics; counters grow with every scrape."""

    scrapes = 0

    def do_GET(self) -> None:
        type(self).scrapes += 1
        body = _scrape(type(self).scrapes).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _scrape(k: int) -> str:
    lines = []
    for line in FIXTURE.read_text().splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if line and not line.startswith("#") and name not in GAUGES and name != "go_goroutines":
            head, value = line.rsplit(" ", 1)
            line = f"{head} {float(value) * k}"
        lines.append(line)
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def exporter() -> Iterator[str]:
    Exporter.scrapes = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Exporter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def agent_flag() -> str:
    """Agent mode is ``--enable-feature=agent`` up to 2.46 (Debian 12 has 2.42), then
    ``--agent``."""
    help_text = subprocess.run(
        [PROMETHEUS, "--help"],  # type: ignore[list-item]
        capture_output=True,
        text=True,
    )
    return (
        "--agent" if "--agent " in help_text.stdout + help_text.stderr else "--enable-feature=agent"
    )


@contextlib.contextmanager
def prometheus_agent(config: Path, data: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    port = free_port()
    log = (data / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [
            PROMETHEUS,  # type: ignore[list-item]
            agent_flag(),
            f"--config.file={config}",
            f"--storage.agent.path={data / 'agent'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def tail(log: Path) -> str:
    return log.read_text()[-3000:]


async def wait_for(services: Services, proc: subprocess.Popen, log: Path, query: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_SECONDS
    while not await services.db.fetchval(query):
        if proc.poll() is not None:
            raise AssertionError(f"prometheus exited:\n{await asyncio.to_thread(tail, log)}")
        if loop.time() > deadline:
            raise AssertionError(
                f"no data after {DEADLINE_SECONDS} s:\n{await asyncio.to_thread(tail, log)}"
            )
        await asyncio.sleep(0.5)


async def test_agent_with_the_printed_block_delivers_allowlisted_metrics_only(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    await services.db.execute(
        "INSERT INTO orchestrators (address, active) VALUES ($1, true)", ADDRESS
    )
    async with running_server(settings) as url:
        created = await lpmetrics(
            settings, "token", "create", "--orchestrator", ADDRESS,
            "--name", "e2e", "--scope", "ingest", "--url", url,
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        _token, block = created.stdout.split("\n", 1)
        with exporter() as target:
            config = tmp_path / "prometheus.yml"
            config.write_text(
                "global:\n"
                "  scrape_interval: 1s\n"
                "scrape_configs:\n"
                "  - job_name: livepeer\n"
                f"    static_configs: [{{targets: ['{target}']}}]\n" + block
            )
            log = tmp_path / "prometheus.log"
            with prometheus_agent(config, tmp_path) as (proc, prom_url):
                # Rows appear, then the rollup has counted paying broadcasters.
                await wait_for(services, proc, log, "SELECT count(*) FROM node_minute_senders")
                async with httpx.AsyncClient() as http:
                    prom_metrics = (await http.get(prom_url + "/metrics")).text

    metrics = set(await services.db.fetchval("SELECT array_agg(DISTINCT metric) FROM series"))
    exported = {
        line.split("{", 1)[0].split(" ", 1)[0]
        for line in FIXTURE.read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert metrics == exported & set(BY_SERIES)
    assert {"go_goroutines", "livepeer_versions"} & metrics == set()
    assert "livepeer_source_segment_duration_seconds_bucket" not in metrics

    node = await services.db.fetchrow("SELECT name, node_type, last_seen FROM nodes")
    assert (node["name"], node["node_type"]) == (NODE, "orch")
    assert node["last_seen"] is not None
    # The three streams stay three series per per-stream counter, folded ids and all.
    assert (
        await services.db.fetchval(
            "SELECT count(*) FROM series WHERE metric = 'livepeer_tickets_recv'"
        )
        == 3
    )
    senders = {
        r["sender"] for r in await services.db.fetch("SELECT sender FROM node_minute_senders")
    }
    fixture_senders = set(re.findall(r'sender="(0x[0-9a-fA-F]{40})"', FIXTURE.read_text()))
    assert senders <= {sender_hash(services.secret, s) for s in fixture_senders}
    assert await services.db.fetchval("SELECT count(*) FROM node_minutes") > 0
    # Prometheus saw every request accepted.
    failed = re.search(
        r"^prometheus_remote_storage_samples_failed_total\{.*\} (\S+)$", prom_metrics, re.M
    )
    assert failed is not None and float(failed[1]) == 0
