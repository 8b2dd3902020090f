"""Label handling at the door, and the proof that raw values go nowhere: a canary
broadcaster address, client IP and stream id are ingested, then searched for in every
table, in Redis, in the logs, in error answers and in /metrics."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from api.core.services import Services
from api.geo.locate import Geolocator, declared
from api.ingest.labels import ORIGIN_RESOLUTION, describe, sender_hash, series_digest
from api.ingest.partitions import maintain
from api.rollup.minutes import roll_up
from tests.support.ingest import (
    NODE,
    Orchestrator,
    minute_start_ms,
    node_series,
    send,
    send_series,
)
from tests.support.remote_write_bodies import V2_HEADERS, v1_body, v2_body

SECRET = b"k" * 32
CANARY_SENDER = "0xCafeBabeCafeBabeCafeBabeCafeBabeCafe1234"
CANARY_IP = "203.0.113.77"
CANARY_STREAM = "canary-stream-7f3a9"
# How the canaries could show up: as text, lower-cased, without 0x, and as the hex of
# their bytes or of their text (bytea columns dump as hex).
_TEXTS = (CANARY_SENDER.lower(), CANARY_SENDER.lower().removeprefix("0x"), CANARY_IP, CANARY_STREAM)
NEEDLES = (
    *_TEXTS,
    *(text.encode().hex() for text in _TEXTS),
    "cb00714d",  # 203.0.113.77 as 4 bytes
)


@pytest.fixture
def geolocator(geoip_db: Path) -> Geolocator:
    with Geolocator(geoip_db) as g:
        yield g


def labels(**values: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(values.items()))


def test_sender_is_a_keyed_hash_of_the_lower_cased_address(geolocator: Geolocator) -> None:
    info = describe(
        "livepeer_tickets_recv",
        labels(__name__="livepeer_tickets_recv", node_id=NODE, sender=CANARY_SENDER),
        SECRET,
        geolocator,
    )
    assert (
        info.sender
        == sender_hash(SECRET, CANARY_SENDER.lower())
        == sender_hash(SECRET, CANARY_SENDER)
    )
    assert info.sender != sender_hash(b"another secret", CANARY_SENDER)
    assert (info.country, info.cell) == (None, None)


def test_client_ip_becomes_country_and_coarse_cell(geolocator: Geolocator) -> None:
    name = "livepeer_mil_pixels_processed"
    located = describe(
        name, labels(__name__=name, node_id=NODE, client_ip=CANARY_IP), SECRET, geolocator
    )
    new_york = declared(40.7128, -74.0060).cell(ORIGIN_RESOLUTION)
    assert (located.country, located.cell) == ("US", new_york)
    unknown = describe(
        name, labels(__name__=name, node_id=NODE, client_ip="10.9.8.7"), SECRET, geolocator
    )
    assert (unknown.country, unknown.cell) == ("", "")


def test_streams_stay_apart_without_their_ids(geolocator: Geolocator) -> None:
    name = "livepeer_mil_pixels_processed"

    def digest(stream: str, secret: bytes = SECRET) -> bytes:
        info = describe(
            name, labels(__name__=name, node_id=NODE, manifest_id=stream), secret, geolocator
        )
        return info.digest

    assert digest("a") == digest("a") != digest("b")
    assert digest("a") != digest("a", b"another secret")
    assert digest("a") == series_digest(
        SECRET, labels(__name__=name, manifest_id="a", node_id=NODE)
    )


@pytest.mark.parametrize(
    ("name", "values", "reason"),
    [
        ("go_goroutines", {"node_id": NODE}, "not_allowlisted"),
        ("livepeer_current_sessions_total", {}, "no_node_id"),
        ("livepeer_current_sessions_total", {"node_id": "x" * 201}, "invalid_node_id"),
        ("node_network_receive_bytes_total", {"node_id": NODE, "device": "lo"}, "loopback_device"),
    ],
)
def test_dropped_series_say_why(
    geolocator: Geolocator, name: str, values: dict[str, str], reason: str
) -> None:
    assert describe(name, labels(__name__=name, **values), SECRET, geolocator) == reason


def test_node_type_is_kept_only_when_plausible(geolocator: Geolocator) -> None:
    name = "livepeer_current_sessions_total"
    for node_type, kept in [("orch", "orch"), ("trcr", "trcr"), ("<script>", None)]:
        info = describe(
            name, labels(__name__=name, node_id=NODE, node_type=node_type), SECRET, geolocator
        )
        assert info.node_type == kept


async def dump_database(services: Services) -> str:
    tables = [
        r["relname"]
        for r in await services.db.fetch(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r'"
        )
    ]
    assert {"series", "samples_p" + minute_table_suffix(), "node_minutes", "nodes"} <= set(tables)
    text = []
    for table in tables:
        rows = await services.db.fetch(f'SELECT t::text AS row FROM "{table}" t')
        text += [f"{table}: {r['row']}" for r in rows]
    return "\n".join(text)


def minute_table_suffix() -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(minute_start_ms() / 1000, UTC).strftime("%Y%m%d")


async def dump_redis(services: Services) -> str:
    text = []
    async for key in services.redis.scan_iter(match=services.key("*")):
        kind = (await services.redis.type(key)).decode()
        if kind == "string":
            value = await services.redis.get(key)
        elif kind == "hash":
            value = await services.redis.hgetall(key)
        elif kind == "zset":
            value = await services.redis.zrange(key, 0, -1)
        else:
            value = kind
        text.append(f"{key!r}: {value!r}")
    return "\n".join(text).lower()


async def test_canary_values_are_stored_logged_and_answered_nowhere(
    services: Services,
    orch: Orchestrator,
    http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    m = minute_start_ms()
    canary = {"sender": CANARY_SENDER, "manifest_id": CANARY_STREAM}
    await send_series(
        http,
        orch.token,
        [
            node_series("livepeer_tickets_recv", [(m, 1), (m + 5000, 2)], **canary),
            node_series("livepeer_ticket_value_recv", [(m, 1), (m + 5000, 9)], **canary),
            node_series(
                "livepeer_mil_pixels_processed",
                [(m, 1), (m + 5000, 4)],
                client_ip=CANARY_IP,
                manifest_id=CANARY_STREAM,
            ),
            node_series("livepeer_versions", [(m, 1)], sender=CANARY_SENDER, client_ip=CANARY_IP),
        ],
    )
    # Refused requests carrying the canaries: their answers must not echo them either.
    answers = [
        await send(
            http,
            orch.token,
            v1_body(
                [([("sender", CANARY_SENDER), ("__name__", "livepeer_tickets_recv")], [(m, 1.0)])]
            ),
        ),
        await send(
            http,
            orch.token,
            v2_body(
                [
                    node_series(
                        "livepeer_tickets_recv",
                        [(1, 1.0)],
                        client_ip=CANARY_IP,
                        sender=CANARY_SENDER,
                    )
                ]
            ),
            V2_HEADERS,
        ),
        await send(
            http,
            orch.token,
            v1_body([({"__name__": CANARY_STREAM.replace("-", "_"), "x": CANARY_IP}, [])]),
        ),
    ]
    assert [a.status_code for a in answers] == [400, 400, 400]
    async with services.db.acquire() as conn:
        assert await roll_up(conn) == 1
        await maintain(conn, services.settings.raw_retention_days)
    assert await services.db.fetchval("SELECT count(*) FROM node_minute_senders") == 1
    assert await services.db.fetchval("SELECT count(*) FROM node_minute_origins") == 1

    database = (await dump_database(services)).lower()
    redis = await dump_redis(services)
    metrics = (await http.get("/metrics")).text.lower()
    logs = caplog.text.lower()
    replies = "\n".join(a.text + str(a.headers) for a in answers).lower()
    assert "livepeer_tickets_recv" in database  # the dump holds what was stored
    for needle in NEEDLES:
        for where, text in [
            ("database", database),
            ("redis", redis),
            ("metrics", metrics),
            ("logs", logs),
            ("answers", replies),
        ]:
            assert needle not in text, f"{needle} found in {where}"
