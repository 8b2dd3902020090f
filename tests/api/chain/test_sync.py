"""The redemptions sync against a simulated subgraph over real HTTP: paging as The
Graph does (ties of one timestamp beyond a page), resuming after an outage mid-way
without duplicates, late events at the cursor's timestamp, hashed senders, and
malformed answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.chain.simulated import SimulatedChain, subgraph_app
from api.chain.subgraph import SubgraphClient, SubgraphError
from api.chain.sync import record_failure, state, sync_once, sync_redemptions
from api.core.services import Services
from api.ingest.labels import sender_hash
from tests.support.services import free_port, serving

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RECIPIENT = "0x" + "ab" * 20
SENDER = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01"


def history(chain: SimulatedChain, count: int, *, start: int = 0) -> None:
    """``count`` events, 130 of them sharing one timestamp (more than a page)."""
    base = int((NOW - timedelta(days=1)).timestamp())
    for i in range(start, start + count):
        ts = base + (600 if 100 <= i < 230 else i * 7)
        chain.redeem(f"0x{i:06x}-0", ts, RECIPIENT, SENDER, "0.01", 0.5)


@pytest.fixture
async def chain() -> AsyncIterator[tuple[SimulatedChain, str]]:
    simulated = SimulatedChain()
    async with serving(subgraph_app(simulated)) as url:
        yield simulated, url


async def _sync(services: Services, url: str, **kwargs: object):
    async with httpx.AsyncClient(timeout=10) as http:
        client = SubgraphClient(url, http, page_size=50)
        return await sync_redemptions(services.db, client, services.secret, now=NOW, **kwargs)


async def _stored(services: Services) -> list[str]:
    return [
        r["id"] for r in await services.db.fetch("SELECT id FROM chain_redemptions ORDER BY id")
    ]


async def test_pages_through_ties_and_stores_each_event_once(
    services: Services, chain: tuple[SimulatedChain, str]
) -> None:
    simulated, url = chain
    history(simulated, 400)
    result = await _sync(services, url)
    assert result.reached_head and result.fetched >= 400 and result.stored == 400
    assert await _stored(services) == sorted(e["id"] for e in simulated.events)
    # Senders only as keyed hashes.
    senders = {r["sender"] for r in await services.db.fetch("SELECT sender FROM chain_redemptions")}
    assert senders == {sender_hash(services.secret, SENDER)}
    face = await services.db.fetchval("SELECT sum(face_value) FROM chain_redemptions")
    assert float(face) == pytest.approx(4.0)
    win = await services.db.fetchval("SELECT min(win_prob) FROM chain_redemptions")
    assert win == pytest.approx(0.5)
    assert (await state(services.db)).synced_at == NOW
    # Nothing new: nothing stored, still at the head.
    again = await _sync(services, url)
    assert again.stored == 0 and again.reached_head


async def test_resumes_after_an_outage_mid_way_without_duplicates(
    services: Services, chain: tuple[SimulatedChain, str]
) -> None:
    simulated, url = chain
    history(simulated, 400)
    simulated.failing(after=4)  # inside the run of 130 events at one timestamp
    with pytest.raises(SubgraphError, match="HTTP 502"):
        await _sync(services, url)
    partial = await _stored(services)
    assert 0 < len(partial) < 400
    assert (await state(services.db)).synced_at is None
    simulated.failing(None)
    result = await _sync(services, url)
    assert result.reached_head
    stored = await _stored(services)
    assert stored == sorted(e["id"] for e in simulated.events)
    assert len(stored) == len(set(stored)) == 400


async def test_late_events_at_the_cursor_timestamp_and_after(
    services: Services, chain: tuple[SimulatedChain, str]
) -> None:
    simulated, url = chain
    history(simulated, 300)
    await _sync(services, url)
    last_ts = max(e["timestamp"] for e in simulated.events)
    # Another block in the same second, and later ones.
    simulated.redeem("0xffffff-9", last_ts, RECIPIENT, SENDER, "0.01", 0.5)
    history(simulated, 20, start=300)
    result = await _sync(services, url)
    assert result.stored == 21
    assert len(await _stored(services)) == 321


async def test_bounded_run_continues_where_it_stopped(
    services: Services, chain: tuple[SimulatedChain, str]
) -> None:
    simulated, url = chain
    history(simulated, 400)
    first = await _sync(services, url, max_pages=3)
    assert not first.reached_head and 0 < first.stored < 400
    while not (await _sync(services, url, max_pages=3)).reached_head:
        pass
    assert len(await _stored(services)) == 400


async def test_a_first_sync_starts_35_days_back(
    services: Services, chain: tuple[SimulatedChain, str]
) -> None:
    simulated, url = chain
    old = int((NOW - timedelta(days=40)).timestamp())
    simulated.redeem("0xold", old, RECIPIENT, SENDER, "1", 1)
    history(simulated, 10)
    await _sync(services, url)
    assert "0xold" not in await _stored(services)
    assert len(await _stored(services)) == 10


GOOD = {
    "id": "x",
    "timestamp": 1714478400,
    "faceValue": "1",
    "winProb": "1",
    "recipient": {"id": RECIPIENT},
    "sender": {"id": SENDER},
}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"data": {"winningTicketRedeemedEvents": [{**GOOD, "timestamp": "soon"}]}}, "timestamp"),
        ({"data": {"winningTicketRedeemedEvents": [{**GOOD, "faceValue": "-1"}]}}, "faceValue"),
        (
            {"data": {"winningTicketRedeemedEvents": [{**GOOD, "recipient": {"id": "no"}}]}},
            "recipient",
        ),
        ({"data": {"winningTicketRedeemedEvents": [{**GOOD, "winProb": 2**257}]}}, "winProb"),
        ({"data": None, "errors": [{"message": "indexing error"}]}, "indexing error"),
        ({"data": {}}, "as a list"),
        ([], "JSON object"),
    ],
)
async def test_malformed_answers_store_nothing(
    services: Services, payload: object, message: str
) -> None:
    async def answer(request: Request) -> JSONResponse:
        return JSONResponse(payload)

    async with serving(Starlette(routes=[Route("/", answer, methods=["POST"])])) as url:
        with pytest.raises(SubgraphError, match=message):
            await _sync(services, url)
    assert await _stored(services) == []


async def test_unreachable_subgraph_is_recorded_and_keeps_the_key_out(
    services: Services, chain: tuple[SimulatedChain, str]
) -> None:
    gone = f"http://127.0.0.1:{free_port()}/api/SECRETKEY/subgraphs/id/x"
    with pytest.raises(SubgraphError) as caught:
        await sync_once(services, gone)
    assert "SECRETKEY" not in str(caught.value)
    s = await state(services.db)
    assert s.failures == 1 and s.synced_at is None and s.last_error
    await record_failure(services.db, "again")
    assert (await state(services.db)).failures == 2


async def test_sync_once_syncs_registry_and_redemptions(
    services: Services, chain: tuple[SimulatedChain, str]
) -> None:
    simulated, url = chain
    simulated.add_transcoder(RECIPIENT, stake=10)
    now = int(datetime.now(UTC).timestamp())
    simulated.redeem("0x1-0", now - 60, RECIPIENT, SENDER, "0.5", 0.1)
    result = await sync_once(services, url)
    assert result.stored == 1 and result.reached_head
    assert await services.db.fetchval("SELECT count(*) FROM orchestrators") == 1
