"""``lpmetrics status``: an O's ingest status from the command line, against a real
server, with the exit status a cron job or alert check relies on."""

from __future__ import annotations

import json

import httpx

from api.core.services import Services
from api.core.settings import Settings
from auth.tokens import create_token
from tests.support.cli_env import lpmetrics
from tests.support.ingest import ADDRESS, NODE, node_series, now_ms, register, send_series
from tests.support.remote_write_bodies import Series
from tests.support.services import free_port


async def test_exit_status_follows_what_arrived(
    services: Services, settings: Settings, quiet_url: str
) -> None:
    orch = await register(services, ADDRESS)
    _, read = await create_token(services.db, ADDRESS, "cron", ["read"])

    silent = await lpmetrics(settings, "status", "--token", read, "--url", quiet_url)
    assert silent.returncode == 1, silent.stderr
    assert "receiving: NO samples stored in the last 5 minutes" in silent.stdout

    t = now_ms() - 20_000
    async with httpx.AsyncClient(base_url=quiet_url) as http:
        await send_series(
            http,
            orch.token,
            [
                node_series("livepeer_current_sessions_total", [(t, 3)]),
                Series({"__name__": "livepeer_max_sessions_total", "job": "lp"}, [(t, 9)]),
            ],
        )
    for _ in range(50):  # the status is written within about a second
        result = await lpmetrics(settings, "status", "--token", read, "--url", quiet_url + "/")
        if result.returncode == 0 and "no_node_id" in result.stdout:
            break
    assert result.returncode == 0, result.stdout + result.stderr
    assert "receiving: yes" in result.stdout
    assert NODE in result.stdout
    assert "no_node_id: 1 samples of 1 series" in result.stdout
    assert "label names: __name__, job" in result.stdout

    # From the environment, out of the process list.
    quiet = await lpmetrics(settings, "status", "--url", quiet_url, env={"LPM_TOKEN": read})
    assert quiet.returncode == 0, quiet.stderr

    as_json = await lpmetrics(settings, "status", "--token", read, "--url", quiet_url, "--json")
    assert as_json.returncode == 0
    status = json.loads(as_json.stdout)
    assert status["address"] == ADDRESS
    assert status["ingest"]["storedSamples"] == 1


async def test_refused_token_is_a_usage_error(
    services: Services, settings: Settings, quiet_url: str
) -> None:
    orch = await register(services, ADDRESS)
    for token, why in (("lpm_" + "A" * 43, "(401): unknown"), (orch.token, "(403): not a READ")):
        result = await lpmetrics(settings, "status", "--token", token, "--url", quiet_url)
        assert result.returncode == 2
        assert f"refused the token {why}" in result.stderr
        assert result.stdout == ""


async def test_unreachable_server_and_bad_arguments(settings: Settings) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = await lpmetrics(settings, "status", "--token", "lpm_x", "--url", url)
    assert result.returncode == 3
    assert f"cannot reach {url}" in result.stderr

    result = await lpmetrics(settings, "status", "--token", "lpm_x", "--url", "ftp://x")
    assert result.returncode == 2
    assert "--url must start with http://" in result.stderr

    result = await lpmetrics(settings, "status")
    assert result.returncode == 2
    assert "--token or LPM_TOKEN is required" in result.stderr
