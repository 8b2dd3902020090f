"""The plain-field fast path answers exactly what graphql-core answers: same data in
the same key order, same errors at the same paths, for every kind of field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.extensions import ParserCache, SchemaExtension

from resolvers.execution import PlainFieldExecution, plain_fields
from resolvers.schema import schema as app_schema


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Inner:
    n: int
    label: str | None = None
    strict: int = 0  # set to None below: a null for a non-null field


@strawberry.type
class Leaves:
    count: int
    ratio: float
    name: str
    colour: Colour
    at: datetime
    maybe: int | None
    inner: Inner
    nested: Inner | None
    items: list[Inner]

    @strawberry.field
    def doubled(self, by: int = 2) -> int:
        return self.count * by

    @strawberry.field
    async def later(self) -> Inner:
        return Inner(n=self.count + 1)


class Flaky:
    """Served as a Leaves (duck-typed): reading `count` or `inner` raises."""

    name = "flaky"

    @property
    def count(self) -> int:
        raise RuntimeError("cannot read count")

    @property
    def inner(self) -> Inner:
        raise RuntimeError("cannot read inner")


@strawberry.type
class Faulty:
    fine: int
    huge: int  # beyond GraphQL's 32-bit Int
    missing: int  # None: non-null violation
    inner: Inner  # its `strict` is None: the error bubbles to the nearest nullable
    optional: Inner | None  # the same inside a nullable field


@strawberry.type
class Query:
    @strawberry.field
    def leaves(self) -> Leaves:
        return Leaves(
            count=3,
            ratio=0.25,
            name="x",
            colour=Colour.BLUE,
            at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
            maybe=None,
            inner=Inner(n=1, label="one"),
            nested=None,
            items=[Inner(n=2), Inner(n=3, label="three")],
        )

    @strawberry.field
    def faulty(self) -> Faulty | None:
        bad = Inner(n=9)
        bad.strict = None  # type: ignore[assignment]
        return Faulty(fine=1, huge=2**40, missing=None, inner=bad, optional=bad)  # type: ignore[arg-type]

    @strawberry.field
    def flaky(self) -> Leaves | None:
        return Flaky()  # type: ignore[return-value]

    @strawberry.field
    def faulty_list(self) -> list[Faulty | None]:
        return [self.faulty(), self.faulty()]


def _schemas(**kwargs: Any) -> tuple[strawberry.Schema, strawberry.Schema]:
    return (
        strawberry.Schema(query=Query, **kwargs),
        strawberry.Schema(query=Query, execution_context_class=PlainFieldExecution, **kwargs),
    )


QUERIES = [
    "{ leaves { count ratio name colour at maybe } }",
    "{ leaves { b: name a: count ...F inner { n label } name } } fragment F on Leaves { ratio }",
    "{ leaves { inner { n ...on Inner { label } } nested { n } items { n label } } }",
    "{ leaves { count doubled d3: doubled(by: 3) later { n label } } }",
    "query($yes: Boolean!) { leaves { count @include(if: $yes) name @skip(if: $yes) } }",
    "{ faulty { fine } }",
    "{ faulty { fine huge } }",
    "{ faulty { fine missing } }",
    "{ faulty { fine inner { n strict } } }",
    "{ faulty { fine optional { n strict } } }",
    "{ faultyList { fine missing } }",
    "{ faultyList { fine optional { strict } } }",
    "{ leaves { __typename count inner { __typename n } } }",
    "{ flaky { name } }",
    "{ flaky { name count } }",
    "{ flaky { name inner { n } } }",
]


def _answer(result: Any) -> str:
    errors = [
        {"message": e.message, "path": e.path, "locations": [tuple(x) for x in e.locations or []]}
        for e in result.errors or []
    ]
    errors.sort(key=lambda e: json.dumps(e["path"]))
    # json.dumps keeps key order: the order of the selection is part of the answer.
    return json.dumps({"data": result.data, "errors": errors}, default=str)


@pytest.mark.parametrize("query", QUERIES)
async def test_the_same_answer_as_graphql_core(query: str) -> None:
    reference, fast = _schemas()
    variables = {"yes": True}
    expected = await reference.execute(query, variable_values=variables)
    got = await fast.execute(query, variable_values=variables)
    assert _answer(got) == _answer(expected)


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        ("huge", "Int cannot represent non 32-bit signed integer value: 1099511627776"),
        ("missing", "Cannot return null for non-nullable field Faulty.missing."),
        ("inner { strict }", "Cannot return null for non-nullable field Inner.strict."),
    ],
)
async def test_errors_are_really_exercised(selection: str, message: str) -> None:
    # The comparison above is only worth something if the fault cases do fail.
    _, fast = _schemas()
    result = await fast.execute(f"{{ faulty {{ fine {selection} }} }}")
    assert result.data == {"faulty": None}
    assert [e.message for e in result.errors or []] == [message]


def test_only_plain_fields_take_the_fast_path() -> None:
    _, fast = _schemas()
    leaves = fast._schema.type_map["Leaves"]
    assert set(plain_fields(leaves)) == {
        "count",
        "ratio",
        "name",
        "colour",
        "at",
        "maybe",
        "inner",
        "nested",
    }  # not: doubled, later (resolvers), items (a list)
    # RegionStats implements an interface, so strawberry gives it an is_type_of check:
    # its own fields are fast, but fields *returning* it are not.
    region = app_schema._schema.type_map["RegionStats"]
    assert {"currentStreams", "coverage", "location"} <= set(plain_fields(region))


class CountingResolves(SchemaExtension):
    seen = 0

    def resolve(self, _next: Any, root: Any, info: strawberry.Info, *args: Any, **kwargs: Any):  # type: ignore[override]
        CountingResolves.seen += 1
        return _next(root, info, *args, **kwargs)


async def test_resolve_middleware_sees_every_field() -> None:
    # A schema extension wrapping resolvers must see each field, so no fast path then.
    reference, fast = _schemas(extensions=[CountingResolves])
    query = "{ leaves { count name inner { n } items { n } } }"
    CountingResolves.seen = 0
    expected = await reference.execute(query)
    slow_count = CountingResolves.seen
    CountingResolves.seen = 0
    got = await fast.execute(query)
    assert CountingResolves.seen == slow_count == 8
    assert _answer(got) == _answer(expected)


async def test_selections_are_collected_once_per_document() -> None:
    from resolvers import execution

    reference, fast = _schemas(extensions=[ParserCache])
    query = "{ leaves { count inner { n } ...F } } fragment F on Leaves { items { n } }"
    first = await fast.execute(query)
    cached = dict(execution._selections)
    assert cached, "nothing was kept for the parsed document"
    again = await fast.execute(query)
    assert dict(execution._selections).keys() == cached.keys()  # hits, nothing new
    expected = _answer(await reference.execute(query))
    assert _answer(first) == _answer(again) == expected


@pytest.mark.parametrize("yes", [True, False])
async def test_selections_that_depend_on_variables_are_collected_each_time(yes: bool) -> None:
    reference, fast = _schemas(extensions=[ParserCache])
    query = (
        "query($yes: Boolean!) { leaves { count @include(if: $yes) inner { n @skip(if: $yes) } } }"
    )
    for variables in ({"yes": yes}, {"yes": not yes}, {"yes": yes}):
        expected = await reference.execute(query, variable_values=variables)
        got = await fast.execute(query, variable_values=variables)
        assert _answer(got) == _answer(expected)
