"""``networkUpdates``: a tick published on Redis reaches a subscriber of another server
process (graphql-transport-ws)."""

from __future__ import annotations

import json

import websockets

from api.services import Services
from api.settings import Settings
from api.stats.ticks import publish_tick, rollups_channel
from tests.stats_fixtures import TICK
from tests.stats_scenario import load, scenario
from tests.stats_server import server_process

SUBSCRIPTION = "subscription { networkUpdates { asOf currentStreams precision } }"


async def _next(ws: websockets.ClientConnection) -> dict:
    message = json.loads(await ws.recv())
    assert message["type"] == "next", message
    return message["payload"]["data"]["networkUpdates"]


async def test_ticks_reach_subscribers_of_other_processes(
    services: Services, settings: Settings
) -> None:
    await load(services.db, scenario(), TICK)
    with server_process(settings) as url:
        ws_url = url.replace("http", "ws") + "/graphql"
        async with websockets.connect(
            ws_url, subprotocols=["graphql-transport-ws"], origin="https://explorer.test"
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
            )
            first = await _next(ws)  # the figures now, whatever the tick
            assert first["precision"] in ("COARSENED", "SUPPRESSED")
            # The server process follows the channel once it has subscribed to it.
            while (await services.redis.pubsub_numsub(rollups_channel(services)))[0][1] < 1:
                pass
            await publish_tick(services, TICK)
            update = await _next(ws)
            while update["asOf"] != TICK.isoformat():
                update = await _next(ws)
            assert update == {
                "asOf": "2024-05-01T12:00:00+00:00",
                "currentStreams": 24,
                "precision": "COARSENED",
            }
            await ws.send(json.dumps({"id": "1", "type": "complete"}))
