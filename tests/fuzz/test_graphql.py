"""GraphQL documents generated from ``schema.graphql`` (hypothesis-graphql), sent through
the real app as an anonymous caller and as a signed-in orchestrator over the scripted
network of ``tests.support.stats_scenario`` plus a node that sent canary broadcaster addresses
and client IPs through the real ingest path.

Whatever the document: never a 5xx or an INTERNAL_SERVER_ERROR; every figure an
anonymous caller gets is no more precise than its field's public ``@precision`` rule
(checked on the value itself: multiples of the count bin, significant digits, cells no
finer than the public resolution, cell centres); a signed-in orchestrator gets no
other orchestrator's per-node figures (none shares); and no canary ever comes back."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import graphql
import h3
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema, nodes, queries

from api.core.services import Services
from api.core.settings import Settings
from api.disclosure.precision import round_up, significant
from api.rollup.minutes import roll_up
from auth.sessions import create_session
from auth.tokens import create_token
from resolvers.schema import sdl
from tests.fuzz.conftest import examples
from tests.resolvers.test_precision import declared_rules
from tests.support.remote_write_bodies import V1_HEADERS, Series, v1_body
from tests.support.stats_fixtures import pin
from tests.support.stats_scenario import (
    ORCHESTRATORS,
    ORIGIN_BR,
    ORIGIN_DE,
    address,
    load,
    scenario,
)

SCHEMA = graphql.build_schema(sdl())
RULES = declared_rules()
COUNT_METRICS = {"STREAMS", "MAX_STREAMS", "CAPACITY", "BROADCASTERS"}

CANARY_SENDER = "0xCafeBabe00000000000000000000000000C0FFEE"
CANARY_IP = "203.0.113.199"
CANARIES = [CANARY_SENDER.lower(), CANARY_SENDER[2:].lower(), CANARY_IP]

ADDRESSES = [address(letter) for letter in ORCHESTRATORS] + ["0x" + "9" * 40]
CODES = ["US", "DE", "FR", "BR", "EU", "NA", "SA", "FRA", "NYC", ORIGIN_DE, ORIGIN_BR, "ZZ", ""]
STEPS = [60, 300, 900, 3600, 7200, 86400, 0, -60, 61]
DATETIMES = st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)).map(
    lambda d: nodes.String(d.isoformat())
)
CUSTOM_SCALARS = {"DateTime": DATETIMES}

# Mutations a signed-in fuzzer must not run: they would end its session or erase the
# data the other examples look at. Anonymous callers may try them all.
SIGNED_IN_MUTATIONS = [
    f
    for f in SCHEMA.mutation_type.fields  # type: ignore[union-attr]
    if f not in ("deleteMyData", "signOut")
]


@dataclass
class World:
    url: str
    settings: Settings
    services: Services
    tick: datetime


@pytest.fixture
async def world(services: Services, settings: Settings, quiet_url: str) -> AsyncIterator[World]:
    tick = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=3)
    await load(services.db, scenario(), tick)
    _, token = await create_token(services.db, address("A"), "prometheus", ["ingest"])
    at = int((tick - timedelta(minutes=2)).timestamp() * 1000)
    node = {"node_id": f"{address('A')}-canary-1", "node_type": "orch"}
    body = v1_body(
        [
            Series(
                {"__name__": "livepeer_ticket_value_recv", **node, "sender": CANARY_SENDER},
                [(at, 1.0), (at + 60_000, 5.0)],
            ),
            Series(
                {"__name__": "livepeer_mil_pixels_processed", **node, "client_ip": CANARY_IP},
                [(at, 1.0), (at + 60_000, 9.0)],
            ),
            Series({"__name__": "livepeer_current_sessions_total", **node}, [(at, 3.0)]),
        ]
    )
    async with httpx.AsyncClient(base_url=quiet_url) as http:
        sent = await http.post(
            "/api/v1/write",
            content=body,
            headers={**V1_HEADERS, "Authorization": f"Bearer {token}"},
        )
        assert sent.status_code == 204, sent.text
    async with services.db.acquire() as conn:
        assert await roll_up(conn) > 0
    await pin(services, tick)
    yield World(quiet_url, settings, services, tick)


def prepare(document: graphql.DocumentNode, data: st.DataObject, tick: datetime) -> str:
    """The document with ``__typename`` in every selection (so answers name their
    concrete types), and most argument values swapped for ones that mean something
    here (known orchestrators, region codes, steps and times near the tick): random
    strings alone are refused as BAD_USER_INPUT before any figure is computed."""

    def near_tick(earliest: int, latest: int) -> graphql.ValueNode:
        minutes = data.draw(st.integers(earliest, latest), label="minutes from the tick")
        return nodes.String((tick + timedelta(minutes=minutes)).isoformat())

    meaningful = {
        "address": lambda: nodes.String(data.draw(st.sampled_from(ADDRESSES), label="address")),
        "code": lambda: nodes.String(data.draw(st.sampled_from(CODES), label="code")),
        "step": lambda: nodes.Int(data.draw(st.sampled_from(STEPS), label="step")),
        "resolution": lambda: nodes.Int(data.draw(st.integers(0, 6), label="resolution")),
        "from": lambda: near_tick(-12 * 60, -1),
        "to": lambda: near_tick(0, 60),
    }

    class Visitor(graphql.Visitor):
        def enter_selection_set(self, node: graphql.SelectionSetNode, *_: Any) -> Any:
            typename = graphql.FieldNode(name=graphql.NameNode(value="__typename"))
            return graphql.SelectionSetNode(selections=(*node.selections, typename))

        def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> Any:
            swap = meaningful.get(node.name.value)
            if (
                swap is None
                or not data.draw(st.integers(0, 9), label="swap")
                or (isinstance(node.value, graphql.NullValueNode))
            ):
                return None
            return graphql.ArgumentNode(name=node.name, value=swap())

    return graphql.print_ast(graphql.visit(document, Visitor()))


async def post(http: httpx.AsyncClient, query: str) -> tuple[httpx.Response, dict]:
    response = await http.post("/graphql", json={"query": query})
    assert response.status_code < 500, (response.status_code, response.text, query)
    text = response.text.lower()
    assert not [c for c in CANARIES if c.lower() in text], query
    body = response.json()
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or ()]
    assert "INTERNAL_SERVER_ERROR" not in codes, (body, query)
    return response, body


class PublicRules:
    """Checks an anonymous answer against the public rules of the fields it holds,
    walking the document and the answer together (aliases, fragments, lists)."""

    def __init__(self, settings: Settings) -> None:
        self.bin = settings.public_count_bin
        self.resolution = settings.public_h3_res
        self.checked: dict[str, int] = {}

    def check(self, document: graphql.DocumentNode, data: dict | None) -> None:
        if data is None:
            return
        operation = document.definitions[0]
        assert isinstance(operation, graphql.OperationDefinitionNode)
        self._object(operation.selection_set, SCHEMA.query_type, data, metric=None)

    def _object(
        self,
        selections: graphql.SelectionSetNode,
        declared: graphql.GraphQLNamedType,
        value: Any,
        metric: str | None,
    ) -> None:
        if value is None:
            return
        if isinstance(value, list):
            for item in value:
                self._object(selections, declared, item, metric)
            return
        concrete = SCHEMA.get_type(value.get("__typename", declared.name)) or declared
        centre: dict[str, float] = {}
        for selection in selections.selections:
            if isinstance(selection, graphql.InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or _applies(condition.name.value, concrete):
                    self._object(selection.selection_set, concrete, value, metric)
                continue
            assert isinstance(selection, graphql.FieldNode)
            name = selection.name.value
            if name.startswith("__"):
                continue
            key = selection.alias.value if selection.alias else name
            field_value = value[key]
            rule = RULES.get((concrete.name, name)) or RULES[(declared.name, name)]
            assert rule is not None, f"{concrete.name}.{name} declares no rule"
            public = rule[0]
            self.checked[public] = self.checked.get(public, 0) + 1
            where = f"{concrete.name}.{name}"
            if public == "OBJECT":
                field_metric = metric
                for argument in selection.arguments or ():
                    if argument.name.value == "metric":
                        field_metric = graphql.print_ast(argument.value)
                field_type = graphql.get_named_type(concrete.fields[name].type)  # type: ignore[union-attr]
                self._object(selection.selection_set, field_type, field_value, field_metric)
            elif public == "BY_METRIC":
                kind = "COUNT_BIN" if metric in COUNT_METRICS else "SIGNIFICANT"
                self._leaf(kind, field_value, where)
            elif public == "CELL_CENTER":
                centre[name] = field_value
            else:
                self._leaf(public, field_value, where)
        if len(centre) == 2:
            latitude, longitude = centre["latitude"], centre["longitude"]
            cell = h3.latlng_to_cell(latitude, longitude, self.resolution)
            assert h3.cell_to_latlng(cell) == pytest.approx((latitude, longitude), abs=1e-6), (
                f"{concrete.name}: a point finer than a resolution-{self.resolution} centre"
            )

    def _leaf(self, rule: str, value: Any, where: str) -> None:
        if rule in ("EXACT", "CALLER"):
            return
        if rule == "HIDDEN":
            assert value in (None, []), where
        elif rule == "LABEL":
            assert value in ("COARSENED", "SUPPRESSED"), where
        elif value is None:
            return  # withheld
        elif rule == "COUNT_BIN":
            assert value == round_up(value, self.bin), (where, value)
        elif rule in ("SIGNIFICANT", "CELL_DISTANCE"):
            # CELL_DISTANCE is measured between public cell centres (tests/resolvers/
            # test_coverage_gaps.py) and rounded like SIGNIFICANT: the rounding shows here.
            assert math.isfinite(value) and value == pytest.approx(significant(value)), (
                where,
                value,
            )
        elif rule == "CELL":
            assert h3.get_resolution(value) <= self.resolution, (where, value)
        else:
            raise AssertionError(f"{where}: unknown rule {rule}")


def _applies(condition: str, concrete: graphql.GraphQLNamedType) -> bool:
    if condition == concrete.name:
        return True
    interfaces = getattr(concrete, "interfaces", ())
    return any(i.name == condition for i in interfaces)


@settings(max_examples=examples(40))
@given(
    document=queries(SCHEMA, custom_scalars=CUSTOM_SCALARS, print_ast=lambda d: d),
    data=st.data(),
)
async def test_generated_queries(
    world: World, document: graphql.DocumentNode, data: st.DataObject
) -> None:
    query = prepare(document, data, world.tick)
    parsed = graphql.parse(query)
    session = await create_session(world.services, address("A"))
    async with httpx.AsyncClient(base_url=world.url, timeout=60) as anonymous:
        _, public = await post(anonymous, query)
    PublicRules(world.settings).check(parsed, public.get("data"))
    async with httpx.AsyncClient(
        base_url=world.url, timeout=60, headers={"Authorization": f"Bearer {session.token}"}
    ) as signed:
        _, own = await post(signed, query)
    _others_hidden(parsed, own.get("data"))


def _others_hidden(document: graphql.DocumentNode, data: dict | None) -> None:
    """Signed in as A: ``orchestrator(address:)`` of anybody else shows no figure (none
    shares): null, or its address and verification status only."""
    if not data:
        return
    operation = document.definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    for selection in operation.selection_set.selections:
        if not isinstance(selection, graphql.FieldNode) or selection.name.value != "orchestrator":
            continue
        asked = next(
            graphql.value_from_ast_untyped(a.value)
            for a in selection.arguments
            if a.name.value == "address"
        )
        key = selection.alias.value if selection.alias else "orchestrator"
        if str(asked).lower() != address("A"):
            _status_only(asked, data.get(key))


# What another orchestrator's entry may carry when it does not share per-node figures:
# who it is and its verification status (DESIGN §9), never a figure.
_IDENTITY = {"__typename", "address", "asOf", "window", "precision"}


def _status_only(asked: object, entry: dict | None) -> None:
    if entry is None:
        return
    for name, value in entry.items():
        if name in _IDENTITY:
            continue
        if name == "nodes":
            assert value == [], (asked, entry)
        elif name == "verification":
            if value is not None:
                extra = {k: v for k, v in value.items() if k not in ("status", "__typename")}
                assert all(v is None for v in extra.values()), (asked, entry)
        else:
            assert value is None, (asked, name, entry)


@settings(max_examples=examples(25))
@given(
    document=from_schema(
        SCHEMA, fields=SIGNED_IN_MUTATIONS, custom_scalars=CUSTOM_SCALARS, print_ast=lambda d: d
    ),
    data=st.data(),
)
async def test_generated_mutations_never_fail_the_server(
    world: World, document: graphql.DocumentNode, data: st.DataObject
) -> None:
    query = prepare(document, data, world.tick)
    session = await create_session(world.services, address("A"))
    async with httpx.AsyncClient(base_url=world.url, timeout=60) as anonymous:
        await post(anonymous, query)
    async with httpx.AsyncClient(
        base_url=world.url, timeout=60, headers={"Authorization": f"Bearer {session.token}"}
    ) as signed:
        await post(signed, query)
