"""The rollup contract of docs/architecture.md, with exact numbers, through the real
ingest path (HTTP, PostgreSQL) and the real rollup statements."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime

import httpx
import pytest

from api.core.services import Services, open_services
from api.core.settings import Settings
from api.geo.locate import declared
from api.geo.places import location_id
from api.ingest.labels import sender_hash
from api.ingest.sharing import set_shared_metrics
from api.remote_write import STALE_NAN
from api.rollup import minutes as rollup
from api.rollup.minutes import roll_up, rollup_worker
from tests.support.ingest import (
    Orchestrator,
    minute_start_ms,
    node_series,
    send_series,
)

SENDER = "0xC3c7c4C8f7061b7D6a72766eEe5359Fe4F36E610"
S = 1000  # ms


async def run_rollup(services: Services) -> int:
    async with services.db.acquire() as conn:
        return await roll_up(conn)


def minute(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


async def minutes(services: Services, *columns: str) -> dict[datetime, tuple]:
    rows = await services.db.fetch(
        f"SELECT minute, {', '.join(columns)} FROM node_minutes ORDER BY minute"
    )
    return {r["minute"]: tuple(r[c] for c in columns) for r in rows}


def pixels(samples, stream: str, ip: str = "198.51.100.7"):
    return node_series("livepeer_mil_pixels_processed", samples, manifest_id=stream, client_ip=ip)


async def test_counter_increases_handle_resets_across_batches(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    m = minute_start_ms()
    await send_series(
        http,
        orch.token,
        [
            pixels([(m, 10), (m + 15 * S, 20), (m + 30 * S, 25)], "s1"),
            pixels([(m, 100), (m + 30 * S, 130)], "s2"),
        ],
    )
    assert await run_rollup(services) == 1
    # The counter restarts (25 -> 5) between the batches: the increase is 5, not -20.
    await send_series(
        http, orch.token, [pixels([(m + 45 * S, 5), (m + 60 * S, 15), (m + 75 * S, 15)], "s1")]
    )
    assert await run_rollup(services) == 1

    assert await minutes(services, "mil_pixels", "has_origins") == {
        # s1: first sample adds nothing, +10, +5, reset +5; s2: +30.
        minute(m): (50.0, True),
        minute(m + 60 * S): (10.0, True),
    }
    origins = await services.db.fetch(
        "SELECT minute, country, cell, mil_pixels FROM node_minute_origins ORDER BY minute"
    )
    frankfurt = declared(50.1109, 8.6821).cell(3)
    assert [tuple(r) for r in origins] == [
        (minute(m), "DE", frankfurt, 50.0),
        (minute(m + 60 * S), "DE", frankfurt, 10.0),
    ]


async def test_every_counter_column(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    m = minute_start_ms()
    await set_shared_metrics(
        services.db,
        orch.address,
        ["livepeer_segment_transcode_failed_total", "livepeer_value_redeemed"],
    )
    names = {
        "segments": "livepeer_segment_transcoded_total",
        "source_seconds": "livepeer_source_segment_duration_seconds_sum",
        "tickets": "livepeer_tickets_recv",
        "ticket_value": "livepeer_ticket_value_recv",
        "winning_tickets": "livepeer_winning_tickets_recv",
        "value_redeemed": "livepeer_value_redeemed",
        "failed_segments": "livepeer_segment_transcode_failed_total",
    }
    await send_series(
        http,
        orch.token,
        [
            node_series(name, [(m, 1), (m + 20 * S, 1 + i + 0.5)])
            for i, name in enumerate(names.values())
        ],
    )
    await run_rollup(services)
    assert await minutes(services, *names) == {minute(m): tuple(i + 0.5 for i in range(len(names)))}


async def test_stale_marker_ends_a_series(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    m = minute_start_ms()
    samples = [(m, 1), (m + 15 * S, 3), (m + 30 * S, STALE_NAN), (m + 45 * S, 10), (m + 60 * S, 12)]
    await send_series(
        http, orch.token, [node_series("livepeer_tickets_recv", samples, sender=SENDER)]
    )
    await run_rollup(services)
    # +2, then the series ends; 10 starts it again (adds nothing), +2 in the next minute.
    assert await minutes(services, "tickets", "has_senders") == {
        minute(m): (2.0, True),
        minute(m + 60 * S): (2.0, True),
    }


async def test_stale_marker_as_the_cursor(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    """A series that ended in one batch starts again in the next: nothing is counted
    across the gap."""
    m = minute_start_ms()
    tickets = "livepeer_tickets_recv"
    await send_series(http, orch.token, [node_series(tickets, [(m, 5), (m + 10 * S, STALE_NAN)])])
    await run_rollup(services)
    await send_series(
        http, orch.token, [node_series(tickets, [(m + 20 * S, 50), (m + 30 * S, 51)])]
    )
    await run_rollup(services)
    assert await minutes(services, "tickets") == {minute(m): (1.0,)}


@pytest.mark.parametrize("rollup_between", [True, False])
async def test_resent_samples_count_once(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient, rollup_between: bool
) -> None:
    m = minute_start_ms()
    seg = "livepeer_segment_transcoded_total"
    first = [(m, 1), (m + 15 * S, 2), (m + 30 * S, 4)]
    await send_series(http, orch.token, [node_series(seg, first)])
    if rollup_between:
        await run_rollup(services)
    # A WAL replay or an HA twin sends those samples again along with a new one.
    await send_series(http, orch.token, [node_series(seg, [*first, (m + 45 * S, 5)])])
    await run_rollup(services)
    assert await minutes(services, "segments") == {minute(m): (4.0,)}


@pytest.mark.parametrize("rollup_between", [True, False])
async def test_first_of_conflicting_samples_wins(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient, rollup_between: bool
) -> None:
    m = minute_start_ms()
    seg = "livepeer_segment_transcoded_total"
    await send_series(http, orch.token, [node_series(seg, [(m, 1), (m + 15 * S, 5)])])
    if rollup_between:
        await run_rollup(services)
    await send_series(http, orch.token, [node_series(seg, [(m + 15 * S, 3), (m + 30 * S, 6)])])
    await run_rollup(services)
    # (m+15s, 3) is ignored: 5 - 1, then 6 - 5.
    assert await minutes(services, "segments") == {minute(m): (5.0,)}


async def test_gauges_sum_series_at_equal_timestamps_and_redo_late_minutes(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    m = minute_start_ms()
    sessions = "livepeer_current_sessions_total"
    await send_series(
        http,
        orch.token,
        [
            node_series(sessions, [(m, 3), (m + 15 * S, 5)], instance="a"),
            node_series(sessions, [(m, 1), (m + 15 * S, 1)], instance="b"),
            node_series("livepeer_max_sessions_total", [(m, 20)]),
        ],
    )
    await run_rollup(services)
    columns = ("sessions_last", "sessions_avg", "sessions_max", "capacity")
    assert await minutes(services, *columns) == {minute(m): (6.0, 5.0, 6.0, 20.0)}

    # Late samples of the same minute: the minute is recomputed from all its samples.
    await send_series(
        http,
        orch.token,
        [
            node_series(sessions, [(m + 30 * S, 2), (m + 45 * S, STALE_NAN)], instance="a"),
            node_series(sessions, [(m + 30 * S, 2)], instance="b"),
            node_series("livepeer_max_sessions_total", [(m + 45 * S, 25)]),
        ],
    )
    await run_rollup(services)
    [(last, avg, peak, capacity)] = (await minutes(services, *columns)).values()
    assert (last, peak, capacity) == (4.0, 6.0, 25.0)
    assert math.isclose(avg, 14 / 3)


async def test_minute_without_sessions_has_null_sessions(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    m = minute_start_ms()
    await send_series(
        http, orch.token, [node_series("livepeer_segment_transcoded_total", [(m, 1)])]
    )
    await run_rollup(services)
    assert await minutes(services, "sessions_last", "capacity", "segments", "nic_rx_bytes") == {
        minute(m): (None, None, 0.0, None)
    }


async def test_senders_are_keyed_hashes_of_those_who_paid(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    m = minute_start_ms()
    idle = "0x" + "d" * 40
    await send_series(
        http,
        orch.token,
        [
            node_series("livepeer_ticket_value_recv", [(m, 1), (m + 5 * S, 4)], sender=SENDER),
            node_series("livepeer_tickets_recv", [(m, 7), (m + 5 * S, 7)], sender=idle),
        ],
    )
    await run_rollup(services)
    rows = await services.db.fetch("SELECT minute, sender FROM node_minute_senders")
    # The secret is the test settings'; the address is hashed lower-cased.
    assert [tuple(r) for r in rows] == [(minute(m), sender_hash(services.secret, SENDER.lower()))]
    assert await minutes(services, "has_senders", "ticket_value", "tickets") == {
        minute(m): (True, 3.0, 0.0)
    }


async def test_unknown_origin_is_an_empty_code(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    m = minute_start_ms()
    await send_series(http, orch.token, [pixels([(m, 1), (m + 5 * S, 3)], "s", ip="10.1.2.3")])
    await run_rollup(services)
    rows = await services.db.fetch("SELECT country, cell, mil_pixels FROM node_minute_origins")
    assert [tuple(r) for r in rows] == [("", "", 2.0)]


async def test_location_is_the_declared_one_else_the_orchestrators(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    m = minute_start_ms()
    seg = "livepeer_segment_transcoded_total"
    await send_series(http, orch.token, [node_series(seg, [(m, 1)])])
    await run_rollup(services)
    elsewhere = await location_id(services.db, declared(40.71, -74.0, "US"))
    await services.db.execute("UPDATE nodes SET declared_location_id = $1", elsewhere)
    await send_series(http, orch.token, [node_series(seg, [(m + 60 * S, 2)])])
    await run_rollup(services)
    assert await minutes(services, "location_id") == {
        minute(m): (orch.location_id,),
        minute(m + 60 * S): (elsewhere,),
    }


async def test_nic_bytes_only_when_shared_and_never_loopback(
    services: Services, orch: Orchestrator, http: httpx.AsyncClient
) -> None:
    m = minute_start_ms()
    rx = "node_network_receive_bytes_total"

    def nic(start: int, device: str, values: tuple[float, float]):
        return node_series(rx, [(start, values[0]), (start + 10 * S, values[1])], device=device)

    await send_series(http, orch.token, [nic(m, "eth0", (100, 300))])
    await set_shared_metrics(services.db, orch.address, [rx])
    later = m + 60 * S
    await send_series(
        http, orch.token, [nic(later, "eth0", (1000, 1500)), nic(later, "lo", (0, 10**9))]
    )
    await run_rollup(services)
    assert await minutes(services, "nic_rx_bytes", "nic_tx_bytes") == {minute(later): (500.0, None)}


async def test_worker_publishes_and_one_leader_counts_once(
    services: Services,
    settings: Settings,
    orch: Orchestrator,
    http: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two processes' workers: one leads, every batch is rolled up exactly once, and
    progress is published on the rollups channel."""
    monkeypatch.setattr(rollup, "INTERVAL_SECONDS", 0.05)
    pubsub = services.redis.pubsub()
    await pubsub.subscribe(services.key("rollups"))
    m = minute_start_ms()
    seg = "livepeer_segment_transcoded_total"
    before = datetime.now(UTC)
    async with open_services(settings) as second:
        workers = [asyncio.create_task(rollup_worker(s)) for s in (services, second)]
        try:
            for k in range(10):
                await send_series(http, orch.token, [node_series(seg, [(m + k * S, k * 2)])])
            for _ in range(400):
                if not await services.db.fetchval("SELECT count(*) FROM rollup_queue"):
                    break
                await asyncio.sleep(0.05)
            message = None
            for _ in range(20):
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                if message:
                    break
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
    await pubsub.aclose()
    assert await minutes(services, "segments") == {minute(m): (18.0,)}
    assert message is not None, "nothing published on the rollups channel"
    published = datetime.fromisoformat(message["data"].decode())
    after = datetime.now(UTC)
    assert published in {
        rollup.newest_complete_minute(before),
        rollup.newest_complete_minute(after),
    }
