"""Which GraphQL documents answer the same for every caller served the same view.

Every field declares, per kind of caller, a precision rule (``resolvers.fields``).
For a signed-in orchestrator, the rules that depend on *who* is asking are ``CALLER``
(describes the caller), ``OWN`` and ``SHARED`` (the caller's own data, or what others
share with it); every other rule gives each precise caller the same value, and each
public-view caller the same value as an anonymous one. A query whose selections, through
every fragment, meet only such fields is answered identically for all callers of one
view class within a tick, so the response cache (``api.http.cache``) may share one
answer between them: the dashboard of the explorer is computed once per tick, not once
per signed-in visitor.

The schema is the contract this rests on: a resolver that looked at the caller's
address must declare one of those rules on the fields it affects (tested:
tests/resolvers/test_sameness.py).
"""

from __future__ import annotations

import functools

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_operation_ast,
    is_abstract_type,
    parse,
    visit,
)
from strawberry.schema.schema_converter import GraphQLCoreConverter

from api.disclosure.precision import Rule
from resolvers.fields import declared_rule
from resolvers.schema import schema

CALLER_DEPENDENT = frozenset({Rule.CALLER, Rule.OWN, Rule.SHARED})


@functools.cache
def _caller_dependent_fields() -> frozenset[tuple[str, str]]:
    """(type name, field name) of every field whose orchestrator rule depends on who asks.
    A field without a declaration counts as dependent (nothing is assumed)."""
    graphql_schema: GraphQLSchema = schema._schema
    found = set()
    for type_ in graphql_schema.type_map.values():
        if type_.name.startswith("__") or not isinstance(
            type_, GraphQLObjectType | GraphQLInterfaceType
        ):
            continue
        for name, field in type_.fields.items():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            declared = declared_rule(definition) if definition is not None else None
            if declared is None or Rule(declared.orchestrator) in CALLER_DEPENDENT:
                found.add((type_.name, name))
    return frozenset(found)


class _Check(Visitor):
    def __init__(self, type_info: TypeInfo, dependent: frozenset[tuple[str, str]]) -> None:
        super().__init__()
        self.type_info = type_info
        self.dependent = dependent
        self.same = True

    def enter_field(self, node: FieldNode, *_: object) -> object:
        name = node.name.value
        if name == "__typename":
            return None
        parent = self.type_info.get_parent_type()
        if parent is None or self.type_info.get_field_def() is None or name.startswith("__"):
            self.same = False  # unknown field or introspection: not worth deciding
            return self.BREAK
        owners = schema._schema.get_possible_types(parent) if is_abstract_type(parent) else [parent]
        if any((owner.name, name) in self.dependent for owner in owners):
            self.same = False
            return self.BREAK
        return None


@functools.lru_cache(maxsize=1024)
def same_for_every_caller(text: str, operation_name: str | None) -> bool:
    """True when the query ``operation_name`` of ``text`` (a valid, executable query)
    answers the same for every caller of one view class. False for anything else:
    mutations, subscriptions, documents that do not parse or name no operation."""
    try:
        document = parse(text)
        operation = get_operation_ast(document, operation_name)
    except GraphQLError:
        return False
    if operation is None or operation.operation != OperationType.QUERY:
        return False
    # Fragments are checked whether used or not: a document with a caller-dependent
    # fragment is simply not shared, which costs nothing but one cache miss.
    type_info = TypeInfo(schema._schema)
    check = _Check(type_info, _caller_dependent_fields())
    visit(document, TypeInfoVisitor(type_info, check))
    return check.same
