import asyncio

import httpx

from api.core.settings import Settings
from tests.support.proxy import proxied
from tests.support.services import running_server


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok\n"


async def test_readyz_when_everything_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "postgres": "ok", "redis": "ok"}


async def _wait_for_status(http: httpx.AsyncClient, status: int) -> httpx.Response:
    for _ in range(100):
        response = await http.get("/readyz")
        if response.status_code == status:
            return response
        await asyncio.sleep(0.1)
    raise AssertionError(f"/readyz never answered {status}: {response.text}")


async def test_readyz_names_what_is_down_and_recovers(settings: Settings, services) -> None:
    async with (
        proxied(settings.database_url) as (pg_proxy, pg_url),
        proxied(settings.redis_url) as (redis_proxy, redis_url),
    ):
        app_settings = settings.model_copy(update={"database_url": pg_url, "redis_url": redis_url})
        async with running_server(app_settings) as url, httpx.AsyncClient(base_url=url) as http:
            assert (await _wait_for_status(http, 200)).json()["postgres"] == "ok"

            await pg_proxy.cut()
            down = await _wait_for_status(http, 503)
            assert down.json() == {
                "status": "unavailable: postgres down",
                "postgres": "down",
                "redis": "ok",
            }

            await redis_proxy.cut()
            both = await _wait_for_status(http, 503)
            for _ in range(50):
                if both.json()["redis"] == "down":
                    break
                both = await http.get("/readyz")
            assert both.json()["status"] == "unavailable: postgres, redis down"

            pg_proxy.restore()
            redis_proxy.restore()
            back = await _wait_for_status(http, 200)
            assert back.json() == {"status": "ready", "postgres": "ok", "redis": "ok"}
