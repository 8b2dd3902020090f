"""Which documents answer the same for every caller of a view class."""

from __future__ import annotations

from graphql import GraphQLObjectType

from resolvers.sameness import same_for_every_caller
from resolvers.schema import schema
from tests.support.dashboard_query import DASHBOARD

# Root fields whose resolvers never look at who is asking beyond the view's precision.
# A new root field lands in neither set until someone decides: if its resolver reads the
# caller's address (own data, sharing, tokens), its fields must declare CALLER, OWN or
# SHARED for orchestrators, and it belongs to the second set.
SHARED = {"network", "regions", "region", "series", "origins", "coverageGaps", "transparency"}
ABOUT_THE_CALLER = {"viewer", "orchestrator", "access"}


def _document(field: str) -> str:
    """A query selecting every field reachable from root ``field`` (two levels)."""
    query = schema._schema.query_type
    assert isinstance(query, GraphQLObjectType)
    definition = query.fields[field]
    arguments = {
        "regions": "(level: COUNTRY)",
        "region": '(level: COUNTRY, code: "DE")',
        "series": '(metric: STREAMS, from: "2024-01-01T00:00:00Z", to: "2024-01-02T00:00:00Z",'
        " step: 3600)",
        "origins": "(level: COUNTRY)",
        "orchestrator": '(address: "0x")',
    }.get(field, "")
    target = definition.type
    while hasattr(target, "of_type"):
        target = target.of_type
    if not hasattr(target, "fields"):
        return f"{{ {field}{arguments} }}"
    leaves = []
    for name, sub in target.fields.items():
        inner = sub.type
        while hasattr(inner, "of_type"):
            inner = inner.of_type
        leaves.append(f"{name} {{ __typename }}" if hasattr(inner, "fields") else name)
    return f"{{ {field}{arguments} {{ {' '.join(leaves)} }} }}"


def test_every_root_field_is_classified() -> None:
    query = schema._schema.query_type
    assert isinstance(query, GraphQLObjectType)
    assert set(query.fields) == SHARED | ABOUT_THE_CALLER
    for field in SHARED:
        assert same_for_every_caller(_document(field), None), field
    for field in ABOUT_THE_CALLER:
        assert not same_for_every_caller(_document(field), None), field


def test_the_dashboard_is_shared() -> None:
    assert same_for_every_caller(DASHBOARD, None)


def test_fragments_aliases_and_operations() -> None:
    assert not same_for_every_caller(
        "query Q { network { asOf } ...Me } fragment Me on Query { viewer { role } }", "Q"
    )
    assert not same_for_every_caller("{ me: viewer { role } }", None)
    assert same_for_every_caller("{ n: network { asOf __typename } }", None)
    assert same_for_every_caller(
        "query A { network { asOf } } query B { regions(level: COUNTRY) { code } }", "B"
    )
    # Anything it cannot decide is not shared.
    assert not same_for_every_caller("mutation { signOut }", None)
    assert not same_for_every_caller("subscription { networkUpdates { asOf } }", None)
    assert not same_for_every_caller("{ __schema { queryType { name } } }", None)
    assert not same_for_every_caller("{ network {", None)
    assert not same_for_every_caller(
        "query A { network { asOf } } query B { network { asOf } }", None
    )
