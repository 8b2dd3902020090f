"""The scripted network through the real ingest path: Prometheus remote-write bodies
POSTed to /api/v1/write, rolled up by the ingest rollup, then every figure of every
level and window checked against ``tests.support.stats_scenario.truth``.

On the way: counters start from a first sample that adds nothing, b1's pixel counter
resets, c1 moves (its orchestrator declares a new location between two rollups), d1
goes silent, X pays two orchestrators, B sends no ``sender`` labels. And a canary:
no broadcaster address or client IP sent ever comes back in any answer.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import httpx

from api.account.nodes import declare_location
from api.core.services import Services
from api.core.settings import Settings
from api.geo.locate import declared
from api.rollup.hours import refresh
from api.rollup.minutes import roll_up
from auth.tokens import create_token
from tests.resolvers.test_network import _check_every_level_and_window
from tests.resolvers.test_precision import INTROSPECTION, root_queries
from tests.support.remote_write_bodies import V1_HEADERS, Series, v1_body
from tests.support.rollup_rows import add_node, add_orchestrator, add_place
from tests.support.services import running_server
from tests.support.stats_fixtures import forget_answers, graphql, pin, signed_in
from tests.support.stats_scenario import (
    NODES,
    ORCHESTRATORS,
    PLACES,
    Row,
    Scenario,
    address,
    scenario,
)

# Raw addresses and IPs the nodes export; none of them may ever be returned.
SENDERS = {
    "X": "0x9f3Cc3A0e1F0cA0f47D6D3a7E5B1C2D3E4F5A6B7",
    "Y": "0x1111222233334444555566667777888899990000",
    "Z": "0xABCDEFabcdef0123456789abcdefABCDEF012345",
}
CLIENT_IPS = {"DE": "198.51.100.23", "": "10.1.2.3", "BR": "192.0.2.77"}


def _tick() -> datetime:
    """A minute a little in the past, so every sample is older than the present."""
    return datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)


def _ms(tick: datetime, offset: int, seconds: int) -> int:
    return int((tick + timedelta(minutes=offset, seconds=seconds)).timestamp() * 1000)


class Counter:
    """One counter series: a first sample that adds nothing, then the increases."""

    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels
        self.value = 0.0
        self.samples: list[tuple[int, float, int]] = []  # (ms, value, offset)

    def add(self, tick: datetime, offset: int, increase: float, *, reset: bool = False) -> None:
        if not self.samples:
            self.samples.append((_ms(tick, offset, 0), 0.0, offset))
        self.value = increase if reset else self.value + increase
        self.samples.append((_ms(tick, offset, 30), self.value, offset))


def remote_write(s: Scenario, tick: datetime) -> dict[str, list[tuple[dict, list]]]:
    """Series per orchestrator letter: (labels, [(ms, value, offset)])."""
    out: dict[str, list[tuple[dict, list]]] = defaultdict(list)
    senders = defaultdict(set)
    for node, offset, who in s.senders:
        senders[(node, offset)].add(who)
    payers = defaultdict(set)
    for node, _, who in s.senders:
        payers[node].add(who)
    origins = defaultdict(list)
    for node, offset, country, _, mil in s.origins:
        origins[(node, offset)].append((country, mil))
    for node, letter in NODES.items():
        base = {"node_id": node, "node_type": "orch"}
        rows: list[Row] = sorted((r for r in s.rows if r.node == node), key=lambda r: r.offset)
        gauges = {"livepeer_current_sessions_total": [], "livepeer_max_sessions_total": []}
        counters: dict[str, Counter] = {}

        def counter(name: str, counters=counters, base=base, **labels: str) -> Counter:
            key = name + repr(sorted(labels.items()))
            if key not in counters:
                counters[key] = Counter({"__name__": name, **base, **labels})
            return counters[key]

        for r in rows:
            gauges["livepeer_current_sessions_total"].append(
                (_ms(tick, r.offset, 30), r.sessions, r.offset)
            )
            gauges["livepeer_max_sessions_total"].append(
                (_ms(tick, r.offset, 30), r.capacity, r.offset)
            )
            if r.has_origins:
                for country, mil in origins[(node, r.offset)]:
                    counter("livepeer_mil_pixels_processed", client_ip=CLIENT_IPS[country]).add(
                        tick, r.offset, mil
                    )
            else:
                reset = node == "b1" and r.offset == -40
                counter("livepeer_mil_pixels_processed").add(
                    tick, r.offset, r.mil_pixels, reset=reset
                )
            counter("livepeer_segment_transcoded_total").add(tick, r.offset, r.segments)
            counter("livepeer_source_segment_duration_seconds_sum").add(
                tick, r.offset, r.source_seconds
            )
            if r.has_senders:
                for who in payers[node]:
                    paid = 1.0 if who in senders[(node, r.offset)] else 0.0
                    counter("livepeer_ticket_value_recv", sender=SENDERS[who]).add(
                        tick, r.offset, paid
                    )
        for name, samples in gauges.items():
            out[letter].append(({"__name__": name, **base}, samples))
        for c in counters.values():
            out[letter].append((c.labels, c.samples))
    return out


async def _send(http: httpx.AsyncClient, token: str, series: list, phase: range) -> None:
    body = [
        Series(labels, [(ms, v) for ms, v, offset in samples if offset in phase])
        for labels, samples in series
    ]
    body = [b for b in body if b.samples]
    if not body:
        return
    response = await http.post(
        "/api/v1/write",
        content=v1_body(body),
        headers={**V1_HEADERS, "Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 204, response.text


async def test_scripted_network_through_ingest(services: Services, settings: Settings) -> None:
    db = services.db
    tick = _tick()
    s = scenario()
    places = {name: await add_place(db, *PLACES[name]) for name in PLACES}
    tokens = {}
    for letter, (stake, active, place) in ORCHESTRATORS.items():
        await add_orchestrator(
            db, address(letter), stake=stake, active=active, location=places[place]
        )
        _, tokens[letter] = await create_token(db, address(letter), "prometheus", ["ingest"])
    first_place = {}
    for r in sorted(s.rows, key=lambda r: r.offset):
        first_place.setdefault(r.node, r.place)
    node_ids = {
        name: await add_node(db, address(letter), name, location=places[first_place[name]])
        for name, letter in NODES.items()
    }
    series = remote_write(s, tick)
    # Raw samples are kept only so long; this network goes 10 days back.
    ingest = settings.model_copy(update={"raw_retention_days": 31})
    async with running_server(ingest, workers=[]) as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            for phase in (range(-20000, -30), range(-30, 1)):
                for letter, items in series.items():
                    await _send(http, tokens[letter], items, phase)
                async with db.acquire() as conn:
                    assert await roll_up(conn) > 0
                if phase.start < -30:
                    # c1's orchestrator declares its new place: later minutes go there.
                    paris = declared(*PLACES["PAR"])
                    assert await declare_location(db, address("C"), node_ids["c1"], paris)

        await pin(services, tick)
        async with await signed_in(services, url, "A") as as_a:
            checked = await _check_every_level_and_window(as_a)
            await refresh(db, before=tick + timedelta(hours=2))
            await forget_answers(services)
            await pin(services, tick)
            assert await _check_every_level_and_window(as_a) == checked

            origins = await graphql(
                as_a, "{ origins(level: COUNTRY) { code pixelsPerSecond orchestrators } }"
            )
            assert {o["code"]: o["pixelsPerSecond"] for o in origins["origins"]} == {
                "BR": 5e6 * 40 / 3600,
                "DE": 1.5e6 * 60 / 3600,
            }
            await _canary(as_a, url)


async def _canary(signed: httpx.AsyncClient, url: str) -> None:
    """Everything answerable, signed in and anonymous: no sender, no client IP."""
    forbidden = [a.lower() for a in SENDERS.values()] + [a[2:].lower() for a in SENDERS.values()]
    forbidden += list(CLIENT_IPS.values())
    async with httpx.AsyncClient(base_url=url, timeout=60) as anonymous:
        schema = (await graphql(anonymous, INTROSPECTION))["__schema"]
        answered = 0
        for _, _, query, _ in root_queries(schema):
            for http in (signed, anonymous):
                response = await http.post("/graphql", json={"query": query})
                text = response.text.lower()
                assert not [f for f in forbidden if f in text], query
                answered += 1
    assert answered > 100
