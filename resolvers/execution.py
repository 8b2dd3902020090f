"""GraphQL execution with a fast path for plain fields (docs/statistics.md, "Caching";
measurements: tests/bench/README.md).

``PlainFieldExecution`` reads a field straight off its attribute when nothing can tell
the difference: strawberry made it a *basic* field (no resolver, no field extension,
no permission class), the query gives it no arguments, no schema extension wraps
resolvers, and an object type has no ``is_type_of`` check. Anything unusual (an
exception, a null for a non-null field, a value the type cannot coerce) sends the field
back through graphql-core, which reports the error exactly as it would have. A
document's collected selections are kept across requests unless variables can change
them (@include, @skip, @defer, @stream, fragment arguments).
"""

from __future__ import annotations

import functools
import operator
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    BREAK,
    DirectiveNode,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationDefinitionNode,
    Undefined,
    Visitor,
    is_leaf_type,
    visit,
)
from graphql.execution.collect_fields import CollectedFields, FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

# "Take the slow path": graphql-core must decide.
_SLOW = object()


def _reader(field: GraphQLField) -> Callable[[Any], Any]:
    resolve = field.resolve
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if getattr(definition, "default_resolver", None) is getattr:
        # What strawberry's basic resolver ends up doing, minus two calls.
        return operator.attrgetter(definition.python_name)  # type: ignore[union-attr]
    return lambda source: resolve(source, None)  # type: ignore[misc]


@dataclass(frozen=True, slots=True)
class PlainField:
    read: Callable[[Any], Any]
    return_type: GraphQLOutputType  # as declared, maybe non-null
    non_null: bool
    leaf: Callable[[Any], Any] | None  # the coercion of a scalar or enum
    object_type: GraphQLObjectType | None  # or the object type to execute on

    def complete_leaf(self, source: Any) -> Any:
        try:
            value = self.read(source)
            if value is None:
                return _SLOW if self.non_null else None
            coerced = self.leaf(value)  # type: ignore[misc]
        except Exception:  # graphql-core will raise and locate it again
            return _SLOW
        return _SLOW if coerced is None or coerced is Undefined else coerced


@functools.cache
def plain_fields(parent_type: GraphQLObjectType) -> dict[str, PlainField]:
    """The fields of ``parent_type`` that may take the fast path, by field name."""
    found = {}
    for name, field in parent_type.fields.items():
        resolve = field.resolve
        if resolve is None or not getattr(resolve, "_is_default", False):
            continue  # a resolver (or not strawberry's): graphql-core runs it
        inner, non_null = field.type, False
        if isinstance(inner, GraphQLNonNull):
            inner, non_null = inner.of_type, True
        if is_leaf_type(inner):
            leaf = inner.coerce_output_value  # type: ignore[union-attr]
            found[name] = PlainField(_reader(field), field.type, non_null, leaf, None)
        elif isinstance(inner, GraphQLObjectType) and inner.is_type_of is None:
            found[name] = PlainField(_reader(field), field.type, non_null, None, inner)
    return found


# Whether an operation's selections are fixed, by id of the (kept alive) operation node.
_fixed: dict[int, tuple[OperationDefinitionNode, bool]] = {}

# Selections collected per (operation, type, field nodes), kept across requests: the
# parse cache hands every request with the same text the same document, so the same
# nodes. An entry keeps its operation node alive, so the ids in its key stay unique.
SELECTIONS = 4096
_selections: OrderedDict[tuple[int, ...], tuple[OperationDefinitionNode, CollectedFields]] = (
    OrderedDict()
)
# Directives that make what is selected depend on the request's variables.
_VARIABLE_SELECTION = frozenset({"include", "skip", "defer", "stream"})


class _FindsVariableSelection(Visitor):
    found = False

    def enter_directive(self, node: DirectiveNode, *_: Any) -> Any:
        if node.name.value in _VARIABLE_SELECTION:
            self.found = True
            return BREAK
        return None


def _fixed_selections(operation: OperationDefinitionNode, fragments: dict[str, Any]) -> bool:
    """True when what the operation selects cannot depend on variables: no @include,
    @skip, @defer or @stream, no fragment arguments."""
    finder = _FindsVariableSelection()
    for node in (operation, *(f.definition for f in fragments.values())):
        visit(node, finder)
    return not finder.found and all(f.variable_signatures is None for f in fragments.values())


class PlainFieldExecution(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with plain fields answered directly and the
    selections of a document collected once rather than once per request."""

    def collect_subfields(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> CollectedFields:
        operation = self.operation
        fixed = _fixed.get(id(operation))
        if fixed is None or fixed[0] is not operation:
            fixed = _fixed[id(operation)] = (
                operation,
                _fixed_selections(operation, self.fragments),
            )
            if len(_fixed) > SELECTIONS:
                del _fixed[next(iter(_fixed))]
        if not fixed[1] or any(d.fragment_variable_values is not None for d in field_details_list):
            return super().collect_subfields(return_type, field_details_list)
        key = (id(operation), id(return_type), *(id(d.node) for d in field_details_list))
        entry = _selections.get(key)
        if entry is not None and entry[0] is operation:
            _selections.move_to_end(key)
            return entry[1]
        collected = super().collect_subfields(return_type, field_details_list)
        _selections[key] = (operation, collected)
        if len(_selections) > SELECTIONS:
            _selections.popitem(last=False)
        return collected

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        # Strawberry always passes a manager; it only matters with middlewares in it.
        wrapped = self.middleware_manager is not None and self.middleware_manager.middlewares
        plain = {} if wrapped else plain_fields(parent_type)
        if not plain:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        done: dict[str, Any] = {}
        rest: GroupedFieldSet = {}
        waiting: list[str] = []
        try:
            for response_name, details in grouped_field_set.items():
                node = details[0].node
                field = None if node.arguments else plain.get(node.name.value)
                if field is None:
                    value = _SLOW
                elif field.leaf is not None:
                    value = field.complete_leaf(source_value)
                else:
                    field_path = Path(path, response_name, parent_type.name)
                    value = self._complete_object(
                        field, source_value, details, field_path, position_context
                    )
                    if value is not _SLOW and self.is_awaitable(value):
                        waiting.append(response_name)
                if value is _SLOW:
                    rest[response_name] = details
                else:
                    done[response_name] = value
            others = (
                super().execute_fields(parent_type, source_value, path, rest, position_context)
                if rest
                else {}
            )
        except Exception:
            if waiting:  # let them fail or finish; their errors are reported by graphql-core
                self.settle_in_background([done[name] for name in waiting])
            raise
        if waiting or self.is_awaitable(others):
            return self._in_order_later(grouped_field_set, done, waiting, others)
        return _in_order(grouped_field_set, done, others)

    def _complete_object(
        self,
        field: PlainField,
        source: Any,
        details: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        try:
            value = field.read(source)
        except Exception:
            return _SLOW
        if value is None:
            return _SLOW if field.non_null else None
        try:
            completed = self.collect_and_execute_subfields(
                field.object_type,  # type: ignore[arg-type]
                details,
                path,
                value,
                position_context,
            )
        except Exception as error:
            # As graphql-core's execute_field: raised again for a non-null field.
            self.handle_field_error(error, field.return_type, details, path)
            return None
        if self.is_awaitable(completed):
            return self._await_object(completed, field.return_type, details, path)
        return completed

    async def _await_object(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        details: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as error:
            self.handle_field_error(error, return_type, details, path)
            return None

    async def _in_order_later(
        self,
        grouped_field_set: GroupedFieldSet,
        done: dict[str, Any],
        waiting: list[str],
        others: Any,
    ) -> dict[str, Any]:
        try:
            if self.is_awaitable(others):
                others = await others
        except Exception:
            self.settle_in_background([done[name] for name in waiting])
            raise
        for name in waiting:
            done[name] = await done[name]
        return _in_order(grouped_field_set, done, others)


def _in_order(
    grouped_field_set: GroupedFieldSet, done: dict[str, Any], others: dict[str, Any]
) -> dict[str, Any]:
    # Response keys keep the order of the selection (GraphQL spec, "Serialized Map Ordering").
    merged = {}
    for name in grouped_field_set:
        if name in done:
            merged[name] = done[name]
        elif name in others:
            merged[name] = others[name]
    return merged
