"""The explorer's clients in a real browser against a real ``lpmetrics serve``, and the
GraphQL-over-HTTP audit.

``run.mjs`` drives headless Debian chromium (puppeteer-core) through a page bundled
with esbuild from ``page.mjs`` and ``explorer-client.mjs`` (the code docs/explorer.md
shows): Apollo Client, graphql-ws and viem, from a page on ``localhost`` (another site
than the API on ``127.0.0.1``), from ``127.0.0.1`` on another port (same site: the
cookie), from an origin not allowed, and the playground with every other host
blocked. ``audit.mjs`` runs graphql-http's ``auditServer``. ``.ci/run`` installs
chromium and the npm packages (``npm ci`` here); without them these tests skip."""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account

from api.core.services import open_services
from api.core.settings import Settings
from api.stats.ticks import publish_tick
from tests.support.browser import missing, run_node
from tests.support.processes import lpmetrics_serve, ready_server, server_env
from tests.support.services import empty_database, free_port
from tests.support.stats_fixtures import TICK
from tests.support.stats_scenario import load, scenario
from tests.support.wallet import register

HERE = Path(__file__).parent
DOC = HERE.parents[1] / "docs" / "explorer.md"
# Only bounds a run that would otherwise hang (the suite takes ~15 s).
RUN_SECONDS = 180


needs_browser = pytest.mark.skipif(missing() is not None, reason=missing() or "")


@dataclass
class Served:
    url: str
    page_port: int
    refused_port: int
    private_key: str


def _serve(settings: Settings, page_port: int) -> Iterator[str]:
    port = free_port()
    pages = [f"http://localhost:{page_port}", f"http://127.0.0.1:{page_port}"]
    env = server_env(
        settings,
        LPM_GEOIP_DB=str(settings.geoip_db or ""),
        LPM_CORS_ORIGINS=",".join(pages),
        LPM_SIWE_DOMAIN=f"localhost:{page_port}",
        LPM_SIWE_URI=pages[0],
        LPM_BACKGROUND_WORKERS="false",  # the test pins the tick
    )
    with ready_server(
        lpmetrics_serve(port),
        port,
        env,
        name="lpmetrics serve",
        ready_seconds=60,
        output=subprocess.DEVNULL,
    ) as (url, _process):
        yield url


@pytest.fixture(scope="module")
async def served(settings: Settings) -> AsyncIterator[Served]:
    if (reason := missing()) is not None:
        pytest.skip(reason)
    account = Account.create()
    async with open_services(settings) as services:
        await empty_database(services.db)
        await load(services.db, scenario(), TICK)
        await publish_tick(services, TICK)
        await register(services.db, account.address)
    page_port, refused_port = free_port(), free_port()
    for url in _serve(settings, page_port):
        yield Served(url, page_port, refused_port, account.key.to_0x_hex())


def _node(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_node(*args, env=env or {}, timeout=RUN_SECONDS)


@needs_browser
def test_graphql_over_http_audit(served: Served) -> None:
    """graphql-http's auditServer: every MUST and SHOULD passes."""
    run = _node("audit.mjs", f"{served.url}/graphql")
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    counts = json.loads(run.stdout.strip().splitlines()[-1])["counts"]
    for level in ("MUST", "SHOULD"):
        assert counts[level]["ok"] > 0 and counts[level]["warn"] == counts[level]["error"] == 0


@needs_browser
def test_the_explorer_in_chromium(served: Served) -> None:
    run = _node(
        "run.mjs",
        env={
            "LPM_API_URL": served.url,
            "LPM_PAGE_PORT": str(served.page_port),
            "LPM_REFUSED_PORT": str(served.refused_port),
            "LPM_PRIVATE_KEY": served.private_key,
        },
    )
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    assert '"failed":0' in run.stdout


def test_the_docs_show_the_code_the_browser_runs() -> None:
    """docs/explorer.md's client snippet is explorer-client.mjs, verbatim."""
    source = (HERE / "explorer-client.mjs").read_text()
    doc = DOC.read_text()
    start = doc.index("<!-- explorer-client.mjs -->")
    block = doc[start:].split("```js\n", 1)[1].split("```\n", 1)[0]
    assert block == source, "copy tests/browser/explorer-client.mjs into docs/explorer.md"
