"""Every field of the schema declares its precision rule, and keeps it.

The walk: introspect the running server, build queries that select every field
reachable from the root query fields (with arguments for the root fields that need
them), run them anonymously and as an orchestrator over the same scripted network,
and check each anonymous value against the orchestrator's under the field's declared
``@precision`` rule. A field without a rule fails; so does a root field with required
arguments this test does not know how to call.
"""

from __future__ import annotations

from typing import Any

import h3
import httpx
import pytest
from graphql import parse
from graphql.language import FieldDefinitionNode, ObjectTypeDefinitionNode

from api.core.services import Services
from api.core.settings import Settings
from api.disclosure.precision import coarse_cell, round_up, significant
from resolvers.schema import sdl
from tests.support.stats_fixtures import graphql, signed_in
from tests.support.stats_scenario import ORIGIN_DE, Loaded, address

INTROSPECTION = """
{ __schema { queryType { name } types { name kind fields { name
    args { name type { ...ref } } type { ...ref } } } } }
fragment ref on __Type { kind name ofType { kind name ofType { kind name ofType {
    kind name ofType { kind name } } } } }
"""

WINDOWS = ["LAST_HOUR", "LAST_DAY", "LAST_WEEK", "LAST_30_DAYS"]
PUBLIC_LEVELS = [
    {"level": "CONTINENT"},
    {"level": "COUNTRY"},
    {"level": "LIVEPEER_REGION"},
    {"level": "CELL", "resolution": 0},
    {"level": "CELL", "resolution": 3},
]
FROM, TO = "2024-04-30T06:00:00Z", "2024-05-01T13:00:00Z"
METRICS = [
    "STREAMS",
    "MAX_STREAMS",
    "CAPACITY",
    "BROADCASTERS",
    "PIXELS_PER_SECOND",
    "TRANSCODED_MINUTES",
    "SEGMENTS",
]

# How to call the root fields that take arguments: every combination is walked.
ROOT_ARGUMENTS: dict[str, list[dict[str, Any]]] = {
    "network": [{"window": w} for w in WINDOWS],
    "regions": [{**lv, "window": w} for lv in PUBLIC_LEVELS for w in WINDOWS],
    "region": [
        {"level": level, "code": code, "window": w}
        for level, code in [
            ("COUNTRY", "US"),
            ("COUNTRY", "DE"),
            ("CONTINENT", "EU"),
            ("LIVEPEER_REGION", "FRA"),
            ("CELL", ORIGIN_DE),
        ]
        for w in WINDOWS
    ],
    "series": [
        {"metric": m, "from": FROM, "to": TO, "step": 3600, **target}
        for m in METRICS
        for target in [{}, {"level": "COUNTRY", "code": "US"}, {"level": "COUNTRY", "code": "DE"}]
    ],
    "origins": [{"level": lv["level"], "window": w} for lv in PUBLIC_LEVELS for w in WINDOWS],
    "orchestrator": [{"address": address("A")}, {"address": address("B")}],
    "coverageGaps": [{"window": w, "minDistanceKm": 0} for w in WINDOWS],
}


def declared_rules() -> dict[tuple[str, str], tuple[str, str] | None]:
    """(type, field) -> (anonymous rule, orchestrator rule), None where undeclared."""
    rules: dict[tuple[str, str], tuple[str, str] | None] = {}
    for definition in parse(sdl()).definitions:
        fields = getattr(definition, "fields", None)
        if not isinstance(definition, ObjectTypeDefinitionNode) and not hasattr(
            definition, "interfaces"
        ):
            continue
        for field in fields or ():
            if not isinstance(field, FieldDefinitionNode):
                continue  # input fields declare nothing: they are not answers
            rule = None
            for directive in field.directives or ():
                if directive.name.value == "precision":
                    values = {a.name.value: a.value.value for a in directive.arguments}
                    rule = (values["anonymous"], values.get("orchestrator", "EXACT"))
            rules[(definition.name.value, field.name.value)] = rule
    return rules


def test_every_field_declares_a_rule() -> None:
    rules = declared_rules()
    assert len(rules) > 50
    missing = sorted(f"{t}.{f}" for (t, f), rule in rules.items() if rule is None)
    assert not missing, f"fields without @precision: {', '.join(missing)}"


def _named(ref: dict) -> tuple[str, str, bool]:
    """(kind, name, is list) of an introspected type reference."""
    is_list = False
    while ref["kind"] in ("NON_NULL", "LIST"):
        is_list = is_list or ref["kind"] == "LIST"
        ref = ref["ofType"]
    return ref["kind"], ref["name"], is_list


def _required(arg: dict) -> bool:
    return arg["type"]["kind"] == "NON_NULL"


class Walker:
    def __init__(self, types: dict[str, dict]) -> None:
        self.types = types

    def selection(self, type_name: str, seen: frozenset[str] = frozenset()) -> str:
        parts = ["__typename"]
        for field in self.types[type_name]["fields"] or ():
            if any(_required(a) for a in field["args"]):
                continue  # nested fields with arguments would need a table too
            kind, name, _ = _named(field["type"])
            if kind in ("OBJECT", "INTERFACE"):
                if name in seen:
                    continue
                parts.append(f"{field['name']} {{ {self.selection(name, seen | {name})} }}")
            else:
                parts.append(field["name"])
        return " ".join(parts)


def _literal(value: Any, key: str) -> str:
    if key in ("level", "window", "metric"):
        return str(value)
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def root_queries(schema: dict) -> list[tuple[str, dict[str, Any], str, str]]:
    """(field, arguments, query, type) for every root query field and argument set."""
    types = {t["name"]: t for t in schema["types"]}
    walker = Walker(types)
    query_type = types[schema["queryType"]["name"]]
    out = []
    for field in query_type["fields"]:
        kind, name, _ = _named(field["type"])
        needs = [a["name"] for a in field["args"] if _required(a)]
        calls = ROOT_ARGUMENTS.get(field["name"], [{}])
        assert not needs or field["name"] in ROOT_ARGUMENTS, (
            f"Query.{field['name']} needs {needs}: add it to ROOT_ARGUMENTS"
        )
        for args in calls:
            rendered = ", ".join(f"{k}: {_literal(v, k)}" for k, v in args.items())
            call = f"{field['name']}({rendered})" if rendered else field["name"]
            body = (
                f" {{ {walker.selection(name, frozenset({name}))} }}"
                if kind
                in (
                    "OBJECT",
                    "INTERFACE",
                )
                else ""
            )
            out.append((field["name"], args, f"{{ {call}{body} }}", name))
    return out


class Checker:
    def __init__(self, rules: dict, settings: Settings) -> None:
        self.rules = rules
        self.bin = settings.public_count_bin
        self.res = settings.public_h3_res
        self.checked: dict[str, int] = {}

    def check(
        self,
        type_name: str,
        anon: Any,
        exact: Any,
        where: str,
        args: dict,
        label: str | None = None,
    ) -> None:
        """``label``: the precision of the nearest object that has one."""
        if isinstance(exact, list):
            assert isinstance(anon, list) and len(anon) == len(exact), where
            for i, (a, e) in enumerate(zip(anon, exact, strict=True)):
                self.check(type_name, a, e, f"{where}[{i}]", args, label)
            return
        if exact is None:
            assert anon is None, where
            return
        concrete = exact.get("__typename", type_name)
        assert anon is None or anon.get("__typename") == concrete, where
        if anon is None:
            return
        label = anon.get("precision", label)
        withheld = False
        for key in exact:
            if key == "__typename":
                continue
            rule = self.rules[(concrete, key)]
            assert rule is not None, f"{concrete}.{key} declares no rule"
            public, _ = rule
            self.checked[public] = self.checked.get(public, 0) + 1
            a, e = anon[key], exact[key]
            at = f"{where}.{key}"
            if public == "OBJECT":
                self.check(concrete, a, e, at, args, label)
            elif public in ("EXACT",):
                assert a == e, at
            elif public == "CALLER":
                pass  # describes the caller: differs by design
            elif public == "HIDDEN":
                assert a in (None, []), at
            elif public == "LABEL":
                assert e == "EXACT", at
                assert a in ("COARSENED", "SUPPRESSED"), at
            elif public in ("COUNT_BIN", "SIGNIFICANT", "BY_METRIC"):
                if public == "BY_METRIC":
                    counts = ("STREAMS", "MAX_STREAMS", "CAPACITY", "BROADCASTERS")
                    public = "COUNT_BIN" if args.get("metric") in counts else "SIGNIFICANT"
                if e is None:
                    assert a is None, at  # nothing to coarsen (e.g. no chain data)
                elif a is None:
                    withheld = True
                elif public == "COUNT_BIN":
                    assert a == round_up(e, self.bin), at
                else:
                    assert a == pytest.approx(significant(e), rel=1e-12), at
            elif public == "CELL_DISTANCE":
                # From the centre of a public cell instead of a node's own place: within
                # a resolution-3 cell's reach of the exact distance, then rounded.
                assert a == significant(a), at
                assert abs(a - e) <= 100 + 0.05 * e, at
            elif public == "CELL":
                assert a == coarse_cell(e, self.res), at
            elif public == "CELL_CENTER":
                latitude, longitude = h3.cell_to_latlng(anon["cell"])
                assert a == pytest.approx(latitude if key == "latitude" else longitude), at
                assert anon["cell"] == coarse_cell(exact["cell"], self.res), at
            else:
                raise AssertionError(f"{at}: unknown rule {public}")
        if withheld:
            assert label == "SUPPRESSED", f"{where}: null figures without SUPPRESSED"


async def test_every_field_keeps_its_rule(
    services: Services,
    settings: Settings,
    scripted: Loaded,
    quiet_url: str,
    as_anonymous: httpx.AsyncClient,
) -> None:
    schema = (await graphql(as_anonymous, INTROSPECTION))["__schema"]
    checker = Checker(declared_rules(), settings)
    walked: set[str] = set()
    undeclared: set[str] = set()
    async with await signed_in(services, quiet_url, "A") as as_orchestrator:
        for field, args, query, type_name in root_queries(schema):
            anon = (await graphql(as_anonymous, query))[field]
            exact = (await graphql(as_orchestrator, query))[field]
            rule = checker.rules[("Query", field)]
            walked.add(field)
            if field == "coverageGaps":  # the public order is by published share
                anon, exact = (sorted(x, key=lambda g: g["cell"]) for x in (anon, exact))
            if rule is None:
                undeclared.add(f"Query.{field}")
                continue
            if rule[0] == "HIDDEN":
                assert anon in (None, []), field
            elif rule[0] == "OBJECT":
                checker.check(type_name, anon, exact, f"{field}{args}", args)
            elif rule[0] != "CALLER":
                raise AssertionError(f"Query.{field}: unexpected rule {rule[0]}")
    # The walk reached every root field and the rules that do something.
    query_type = next(t for t in schema["types"] if t["name"] == schema["queryType"]["name"])
    assert walked == {f["name"] for f in query_type["fields"]}
    for rule in (
        "EXACT",
        "COUNT_BIN",
        "SIGNIFICANT",
        "CELL",
        "CELL_CENTER",
        "CELL_DISTANCE",
        "LABEL",
        "BY_METRIC",
    ):
        assert checker.checked.get(rule, 0) > 0, f"no field with rule {rule} was checked"
    assert not undeclared, f"root fields without @precision: {sorted(undeclared)}"
