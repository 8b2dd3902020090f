"""``lpmetrics demo-load`` as a user runs it: a real process driving a real server
that shares its database."""

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from api.core.services import Services
from api.core.settings import Settings
from tests.support.cli_env import cli_process, process_env
from tests.support.services import free_port, running_server, serving


async def demo_load(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    return await cli_process("demo-load", *args, env=env)


@pytest.fixture
async def url(services: Services, settings: Settings) -> AsyncIterator[str]:
    async with running_server(settings, workers=[]) as base:
        yield base


async def test_it_registers_the_demo_and_writes_through_ingest(
    services: Services, settings: Settings, url: str, tmp_path
) -> None:
    status, out, err = await demo_load(
        "--url",
        url,
        "--orchestrators",
        "6",
        "--seed",
        "4",
        "--backfill",
        "5m",
        "--duration",
        "0",
        env=process_env(settings, tmp_path),
    )
    assert status == 0, err
    assert "Traceback" not in err
    first, *_, last = out.strip().splitlines()
    assert first.startswith("demo network: 6 orchestrators (5 reporting, 1 silent), ")
    assert first.endswith(f"nodes in FRA; writing to {url}")
    assert last.startswith("sent ") and last.endswith("(0 retries, 0 refused)")
    assert await services.db.fetchval("SELECT count(*) FROM orchestrators") == 6
    writers = await services.db.fetchval("SELECT count(DISTINCT orchestrator) FROM ingest_batches")
    assert writers == 5
    stored = await services.db.fetchval("SELECT sum(samples) FROM ingest_batches")
    assert stored > 5 * 5 * 2  # five minutes of at least the two gauges of every O


async def test_a_server_on_another_database_is_named_as_the_problem(
    services: Services, settings: Settings, tmp_path
) -> None:
    async def healthz(request):
        return PlainTextResponse("ok\n")

    async def write(request):
        return PlainTextResponse("unknown token\n", status_code=401)

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/api/v1/write", write, methods=["POST"]),
        ]
    )
    async with serving(app) as other:
        status, _, err = await demo_load(
            "--url",
            other,
            "--backfill",
            "2m",
            "--duration",
            "0",
            env=process_env(settings, tmp_path),
        )
    assert status == 2
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith(f"lpmetrics: the server at {other} refused the demo's ingest tokens")
    )
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--orchestrators", "0"], "lpmetrics: --orchestrators must be from 1 to 10000, not 0"),
        (["--url", "ftp://x"], "lpmetrics: --url must start with http:// or https://"),
        (["--scrape-interval", "1.5s"], "lpmetrics: --scrape-interval must be a whole number"),
        (["--backfill", "soon"], "lpmetrics demo-load: error: argument --backfill: 'soon' is not"),
        (["--backfill", "8d"], "lpmetrics: --backfill reaches further back than the raw retention"),
    ],
)
async def test_bad_arguments_give_one_line_and_status_2(
    settings: Settings, tmp_path, args: list[str], message: str
) -> None:
    status, _, err = await demo_load(*args, env=process_env(settings, tmp_path))
    assert status == 2
    assert err.strip().splitlines()[-1].startswith(message)


async def test_no_server_at_the_url(settings: Settings, services: Services, tmp_path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    status, _, err = await demo_load("--url", url, env=process_env(settings, tmp_path))
    assert status == 2
    assert err.strip().splitlines()[-1] == f"lpmetrics: no lpmetrics server answers at {url}"
