"""A real Prometheus agent and what it scrapes, for the end-to-end tests (tests/e2e/):
a go-livepeer-like exporter serving ``tests/data/go-livepeer-orch.prom``, the agent in
its own process with a config ending in the block ``lpmetrics token create`` prints,
and a wait for what it delivers to reach the database."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from api.core.services import Services
from api.core.settings import Settings
from tests.support.cli_env import lpmetrics
from tests.support.http_threads import QuietHandler, threaded_server
from tests.support.processes import logged_process
from tests.support.services import free_port

PROMETHEUS = shutil.which("prometheus")
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "go-livepeer-orch.prom"
ADDRESS = "0x5be44e23041e93cdf9bcd5a0968524e104e38ae1"
NODE = "0x5Be44e23041E93CDF9bCd5A0968524e104e38ae1-orch-fra-1"
GAUGES = ("livepeer_current_sessions_total", "livepeer_max_sessions_total", "livepeer_versions")
DEADLINE_SECONDS = 120


class Exporter(QuietHandler):
    """Serves the fixture like go-livepeer's /metrics; counters grow with every scrape."""

    scrapes = 0

    def do_GET(self) -> None:
        type(self).scrapes += 1
        self.send(_scrape(type(self).scrapes).encode(), "text/plain; version=0.0.4")


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
    with threaded_server(Exporter) as port:
        yield f"127.0.0.1:{port}"


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


@contextlib.asynccontextmanager
async def prometheus_agent(
    config: Path, data: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    port = free_port()
    command = [
        PROMETHEUS,  # type: ignore[list-item]
        agent_flag(),
        f"--config.file={config}",
        f"--storage.agent.path={data / 'agent'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    async with logged_process(command, data / "prometheus.log") as proc:
        yield proc, f"http://127.0.0.1:{port}"


def tail(log: Path) -> str:
    return log.read_text()[-3000:]


async def wait_for(
    services: Services, proc: asyncio.subprocess.Process, log: Path, query: str
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_SECONDS
    while not await services.db.fetchval(query):
        if proc.returncode is not None:
            raise AssertionError(f"prometheus exited:\n{await asyncio.to_thread(tail, log)}")
        if loop.time() > deadline:
            raise AssertionError(
                f"no data after {DEADLINE_SECONDS} s:\n{await asyncio.to_thread(tail, log)}"
            )
        await asyncio.sleep(0.5)


async def ingest_block(settings: Settings, url: str, orchestrator: str) -> str:
    """The ``remote_write`` block ``lpmetrics token create`` prints for an ingest token
    of ``orchestrator`` on the server at ``url``."""
    created = await lpmetrics(
        settings, "token", "create", "--orchestrator", orchestrator,
        "--name", "e2e", "--scope", "ingest", "--url", url,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    _token, block = created.stdout.split("\n", 1)
    return block


def agent_config(scrape_jobs: str, block: str) -> str:
    """An agent's prometheus.yml: ``scrape_jobs`` every second, then ``block``."""
    return "global:\n  scrape_interval: 1s\nscrape_configs:\n" + scrape_jobs + block
