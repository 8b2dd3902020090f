"""A graphql-transport-ws client for tests: a real WebSocket to a real server."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

import websockets

from tests.support.wallet import ORIGIN


@contextlib.asynccontextmanager
async def subscribed(
    url: str, query: str, headers: dict[str, str] | None = None
) -> AsyncIterator[websockets.ClientConnection]:
    """A connection to ``url``'s /graphql (from the explorer's origin) with ``query``
    subscribed as operation "1"."""
    async with websockets.connect(
        url.replace("http", "ws", 1) + "/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        origin=ORIGIN,  # type: ignore[arg-type]
        additional_headers=headers,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        yield ws
