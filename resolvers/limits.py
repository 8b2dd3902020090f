"""What protects the server from expensive queries, and the error codes callers get.

Refused queries get a GraphQL error saying which limit they broke, with
``extensions.code`` = ``QUERY_TOO_COMPLEX``:

* tokens: at most ``MAX_TOKENS`` in a document (the parser stops there);
* depth: at most ``MAX_DEPTH`` nested selections;
* aliases: at most ``MAX_ALIASES`` aliased fields;
* cost: every field resolved costs 1, times the largest number of items of the lists
  it is inside (``LIST_SIZES``; argument values, variables included, pick the size);
  at most ``MAX_COST``. Checked when the variables are known, before execution.

Every other error gets a code too (``ErrorCodes``): GRAPHQL_PARSE_FAILED,
GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT for argument values, SERVICE_UNAVAILABLE
when PostgreSQL or Redis is away, and INTERNAL_SERVER_ERROR; the messages of the last
two are replaced so no internals leak.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    get_operation_ast,
)
from graphql.language import EnumValueNode, VariableNode
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)

from api.core.outage import STORAGE_AWAY
from api.geo.regions import COUNTRIES, REGIONS
from api.stats.series import MAX_POINTS
from resolvers.network import MAX_REGIONS
from resolvers.orchestrators import MAX_NODES

log = logging.getLogger(__name__)

MAX_TOKENS = 2000
MAX_DEPTH = 10
MAX_ALIASES = 20
# Room for every field of every region (2,000 x ~65 fields with the §9 estimates).
MAX_COST = 150_000
TOO_COMPLEX = "QUERY_TOO_COMPLEX"
CACHED_DOCUMENTS = 256

# Most items a list field can return. Other lists count as DEFAULT_LIST_SIZE.
DEFAULT_LIST_SIZE = 20
_LEVEL_SIZES = {
    "CONTINENT": 6,
    "COUNTRY": len(COUNTRIES),
    "LIVEPEER_REGION": len(REGIONS),
    "CELL": MAX_REGIONS,
}


def _argument(field: FieldNode, name: str, variables: dict[str, Any] | None) -> Any:
    """The value of a field argument: a literal, a variable's value, or None if unknown."""
    for arg in field.arguments or ():
        if arg.name.value != name:
            continue
        if isinstance(arg.value, VariableNode):
            return (variables or {}).get(arg.value.name.value)
        if isinstance(arg.value, EnumValueNode):
            return arg.value.value
        return None
    return None


def _level_size(field: FieldNode, variables: dict[str, Any] | None) -> int:
    level = _argument(field, "level", variables)
    return _LEVEL_SIZES.get(level, MAX_REGIONS) if isinstance(level, str) else MAX_REGIONS


LIST_SIZES: dict[tuple[str, str], Callable[[FieldNode, dict[str, Any] | None], int]] = {
    ("Query", "regions"): _level_size,
    ("Query", "origins"): _level_size,
    ("Query", "series"): lambda *_: MAX_POINTS,
    ("OrchestratorStats", "nodes"): lambda *_: MAX_NODES,
}


def _unwrap(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        if isinstance(type_, GraphQLList):
            is_list = True
        type_ = type_.of_type
    return type_, is_list


@dataclass
class Measure:
    """Depth, aliases and cost of one operation."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0


def measure(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDefinitionNode],
    operation: OperationDefinitionNode,
    variables: dict[str, Any] | None,
) -> Measure:
    """Walk ``operation``: every field costs 1 times the largest sizes of the lists it
    is in; list sizes come from ``LIST_SIZES`` (with ``variables`` when known)."""
    m = Measure()

    def walk(
        selection_set: SelectionSetNode | None,
        parent: Any,
        depth: int,
        times: int,
        seen: frozenset[str],
    ) -> None:
        if selection_set is None:
            return
        m.depth = max(m.depth, depth)
        if depth > MAX_DEPTH + 1:  # deep enough to refuse; stop walking
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    m.aliases += 1
                m.cost += times
                fields = getattr(parent, "fields", None)
                definition = fields.get(selection.name.value) if fields else None
                if definition is None or selection.selection_set is None:
                    continue
                child, is_list = _unwrap(definition.type)
                size = 1
                if is_list:
                    sizer = LIST_SIZES.get((parent.name, selection.name.value))
                    size = sizer(selection, variables) if sizer else DEFAULT_LIST_SIZE
                walk(selection.selection_set, child, depth + 1, times * size, seen)
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = schema.get_type(selection.type_condition.name.value)
                walk(selection.selection_set, target, depth, times, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in seen:
                    continue
                target = schema.get_type(fragment.type_condition.name.value)
                walk(fragment.selection_set, target, depth, times, seen | {name})

    root = schema.get_root_type(operation.operation)
    if root is not None:
        walk(operation.selection_set, root, 1, 1, frozenset())
    return m


def _name(operation: OperationDefinitionNode) -> str:
    return f"operation {operation.name.value!r}" if operation.name else "the operation"


def _too_complex(message: str, node: Any = None) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": TOO_COMPLEX})


class QueryShape(ValidationRule):
    """Depth and alias limits: properties of the document alone, so they are checked
    with validation (and cached with it)."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        fragments = {
            d.name.value: d
            for d in self.context.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        m = measure(self.context.schema, fragments, node, None)
        if m.depth > MAX_DEPTH:
            self.report_error(
                _too_complex(
                    f"{_name(node)} is {m.depth} levels deep; the limit is {MAX_DEPTH}", node
                )
            )
        elif m.aliases > MAX_ALIASES:
            self.report_error(
                _too_complex(
                    f"{_name(node)} has {m.aliases} aliases; the limit is {MAX_ALIASES}", node
                )
            )


class QueryCost(SchemaExtension):
    """The cost limit, checked before execution, when the variables are known."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.result:
            operation = get_operation_ast(document, context.operation_name)
            if operation is not None:
                fragments = {
                    d.name.value: d
                    for d in document.definitions
                    if isinstance(d, FragmentDefinitionNode)
                }
                schema = context.schema._schema  # the graphql-core schema
                cost = measure(schema, fragments, operation, context.variables).cost
                if cost > MAX_COST:
                    message = (
                        f"{_name(operation)} may resolve {cost} fields (each counted once per"
                        f" item of the lists it is in); the cost limit is {MAX_COST}. Ask for"
                        " fewer fields, or for fewer regions or points."
                    )
                    context.result = GraphQLExecutionResult(
                        data=None, errors=[_too_complex(message, operation)]
                    )
        yield


_BAD_INPUT = (
    "Expected value of type",
    "Expected type",
    "Value ",
    "Variable '$",
    "Int cannot represent",
    "Float cannot represent",
    "String cannot represent",
    "Boolean cannot represent",
    "ID cannot represent",
)


# Storage that is away: the caller may try again (the server logs the cause).
_UNAVAILABLE = STORAGE_AWAY
UNAVAILABLE_MESSAGE = "the statistics store is unavailable right now; try again shortly"


def error_code(error: GraphQLError) -> str:
    if isinstance(error, GraphQLSyntaxError):
        return TOO_COMPLEX if "tokens. Parsing aborted" in error.message else "GRAPHQL_PARSE_FAILED"
    original = error.original_error
    if error.path is None and (original is None or isinstance(original, GraphQLError)):
        # Before execution: the document or the variables are wrong.
        if error.message.startswith(_BAD_INPUT):
            return "BAD_USER_INPUT"
        return "GRAPHQL_VALIDATION_FAILED"
    if isinstance(original, _UNAVAILABLE):
        return "SERVICE_UNAVAILABLE"
    return "INTERNAL_SERVER_ERROR"


def add_codes(errors: list[GraphQLError] | None) -> None:
    """Give every error an ``extensions.code``; hide the message of internal ones (they
    are logged with their traceback by strawberry)."""
    for error in errors or ():
        extensions = error.extensions if isinstance(error.extensions, dict) else {}
        if "code" not in extensions:
            code = error_code(error)
            extensions["code"] = code
            if code == "INTERNAL_SERVER_ERROR":
                error.message = "internal error; it has been logged"
            elif code == "SERVICE_UNAVAILABLE":
                error.message = UNAVAILABLE_MESSAGE
        error.extensions = extensions


class ErrorCodes(SchemaExtension):
    """``add_codes`` for every operation (the HTTP view does it again for errors raised
    before the operation started, such as unparsable documents)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None:
            add_codes(result.errors)


# Classes or factories, not instances: strawberry builds fresh ones per operation.
EXTENSIONS: list[Any] = [
    ErrorCodes,
    functools.partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
    functools.partial(AddValidationRules, [QueryShape]),
    QueryCost,
    # Repeated queries (dashboards) skip parsing and validation, which otherwise cost
    # as much as executing them.
    functools.partial(ParserCache, maxsize=CACHED_DOCUMENTS),
    functools.partial(ValidationCache, maxsize=CACHED_DOCUMENTS),
]

__all__ = [
    "EXTENSIONS",
    "MAX_COST",
    "MAX_DEPTH",
    "MAX_TOKENS",
    "ErrorCodes",
    "QueryCost",
    "error_code",
]
