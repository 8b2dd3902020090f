"""The soak's readers: the explorer's queries at a fixed rate (open loop: a slow or
paused server does not slow the arrivals down, as with real visitors), anonymous and
signed in, and graphql-transport-ws subscriptions that reconnect when dropped."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import websockets

from tests.support.dashboard_query import DASHBOARD

NETWORK = "{ network { asOf currentStreams capacity precision } }"
VIEWER = "{ viewer { role address } access { precise } }"
SUBSCRIPTION = "subscription { networkUpdates { asOf currentStreams precision } }"

# (kind, share of the requests)
MIX = [
    ("anonymous-dashboard", 0.60),
    ("anonymous-network", 0.15),
    ("session-dashboard", 0.12),
    ("token-dashboard", 0.08),
    ("session-viewer", 0.05),
]
MAX_IN_FLIGHT = 400


@dataclass(slots=True)
class Result:
    kind: str
    started: float  # monotonic
    ended: float
    outcome: str  # HTTP status, or the exception's name
    as_of: str | None = None


@dataclass
class Readers:
    url: str
    session: str
    token: str
    rate: float
    origin: str
    results: list[Result] = field(default_factory=list)
    skipped: int = 0  # arrivals dropped: MAX_IN_FLIGHT requests were already waiting
    keepalive_retries: int = 0
    subscription_events: dict[str, int] = field(default_factory=dict)

    async def run(self, until: float) -> None:
        limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=self.url, timeout=30, limits=limits) as http:
            subscribers = [
                asyncio.create_task(self._subscribe(name, headers, until))
                for name, headers in (
                    ("anonymous", {}),
                    ("anonymous-2", {}),
                    ("session", {"Authorization": f"Bearer {self.session}"}),
                )
            ]
            await self._arrivals(http, until)
            for task in subscribers:
                task.cancel()
            await asyncio.gather(*subscribers, return_exceptions=True)

    async def _arrivals(self, http: httpx.AsyncClient, until: float) -> None:
        kinds, weights = zip(*MIX, strict=True)
        pending: set[asyncio.Task[None]] = set()
        rng = random.Random(7)
        next_at = time.monotonic()
        while next_at < until:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at += 1 / self.rate
            if len(pending) >= MAX_IN_FLIGHT:
                self.skipped += 1
                continue
            kind = rng.choices(kinds, weights)[0]
            task = asyncio.create_task(self._one(http, kind))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.wait(pending, timeout=60)

    async def _one(self, http: httpx.AsyncClient, kind: str) -> None:
        caller, _, what = kind.partition("-")
        headers = {}
        if caller == "session":
            headers["Authorization"] = f"Bearer {self.session}"
        elif caller == "token":
            headers["Authorization"] = f"Bearer {self.token}"
        if what == "dashboard":
            now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            variables = {"from": (now - timedelta(days=1)).isoformat(), "to": now.isoformat()}
            payload = {"query": DASHBOARD, "variables": variables}
        else:
            payload = {"query": NETWORK if what == "network" else VIEWER}
        started = time.monotonic()
        as_of = None
        try:
            try:
                response = await http.post("/graphql", json=payload, headers=headers)
            except (httpx.ReadError, httpx.RemoteProtocolError):
                # A kept-alive connection the server closed as it was reused: browsers
                # send such a request again at once, and so does this one (counted).
                self.keepalive_retries += 1
                response = await http.post("/graphql", json=payload, headers=headers)
            outcome = str(response.status_code)
            if response.status_code == 200:
                body = response.json()
                if body.get("errors"):
                    codes = {e.get("extensions", {}).get("code") for e in body["errors"]}
                    outcome = "200+" + ",".join(sorted(str(c) for c in codes))
                network = (body.get("data") or {}).get("network") or {}
                as_of = network.get("asOf")
        except httpx.HTTPError as exc:
            outcome = type(exc).__name__
        self.results.append(Result(kind, started, time.monotonic(), outcome, as_of))

    async def _subscribe(self, name: str, headers: dict[str, str], until: float) -> None:
        def count(event: str) -> None:
            key = f"{name}:{event}"
            self.subscription_events[key] = self.subscription_events.get(key, 0) + 1

        ws_url = self.url.replace("http", "ws", 1) + "/graphql"
        while time.monotonic() < until:
            try:
                async with websockets.connect(
                    ws_url,
                    subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                    origin=self.origin,  # type: ignore[arg-type]
                    additional_headers=headers,
                    open_timeout=30,
                ) as ws:
                    await ws.send(json.dumps({"type": "connection_init"}))
                    await ws.send(
                        json.dumps(
                            {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
                        )
                    )
                    count("connected")
                    async for raw in ws:
                        message = json.loads(raw)
                        count(message.get("type", "?"))
                        if message.get("type") in ("error", "complete"):
                            break
            except websockets.InvalidStatus as exc:
                count(f"refused {exc.response.status_code}")
            except (OSError, websockets.WebSocketException, TimeoutError) as exc:
                count(type(exc).__name__)
            count("reconnect")
            await asyncio.sleep(1)


def outside(windows: list[tuple[float, float]]) -> Callable[[Result], bool]:
    """A test of whether a request neither started nor ended inside a fault window."""

    def test(result: Result) -> bool:
        return not any(result.started <= end and result.ended >= start for start, end in windows)

    return test
