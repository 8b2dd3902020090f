"""A graphql-transport-ws client for tests: a real WebSocket to a real server."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

import websockets

from tests.support.wallet import ORIGIN


@contextlib.asynccontextmanager
async def subscribed(
    url: str,
    query: str,
    headers: dict[str, str] | None = None,
    params: dict[str, object] | None = None,
) -> AsyncIterator[websockets.ClientConnection]:
    """A connection to ``url``'s /graphql (from the explorer's origin) with ``query``
    subscribed as operation "1"; ``params`` is the ``connection_init`` payload."""
    async with websockets.connect(
        url.replace("http", "ws", 1) + "/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        origin=ORIGIN,  # type: ignore[arg-type]
        additional_headers=headers,
    ) as ws:
        init: dict[str, object] = {"type": "connection_init"}
        if params is not None:
            init["payload"] = params
        await ws.send(json.dumps(init))
        ack = await ws.recv()
        assert isinstance(ack, str), "a binary frame: browsers' graphql-ws closes on it"
        assert json.loads(ack)["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        yield ws
