"""Declaring a field's precision rule: ``@precision(anonymous: ..., orchestrator: ...)``
(docs/statistics.md, "Who sees what").

``precise_field(...)`` is ``strawberry.field(...)`` with its rules declared as a schema
directive, so ``schema.graphql`` states the rule of every field. Root fields carry a
``PrecisionExtension`` that hands what their resolver returned to ``coarsen``, which
rewrites the object tree by each field's declared rule for the caller's view; plain
data fields stay plain attributes (faster: tests/bench/README.md).
"""

from __future__ import annotations

import functools
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.schema_directive import Location
from strawberry.types.base import has_object_definition
from strawberry.types.private import is_private

from api.disclosure.precision import Rule, View, coarse_point, public_value
from resolvers.view import view_of

PrecisionRule = strawberry.enum(
    Rule,
    name="PrecisionRule",
    description="How a field is coarsened for a kind of caller (see the @precision directive).",
)


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="precision",
    description=(
        "The precision each kind of caller gets of this field. Anonymous callers"
        " (and orchestrators served the public view) get `anonymous`, signed-in"
        " orchestrators `orchestrator`. Withheld figures (too few reporting"
        " orchestrators) are null whatever the rule."
    ),
)
class PrecisionDirective:
    anonymous: PrecisionRule  # type: ignore[valid-type]
    orchestrator: PrecisionRule = Rule.EXACT  # type: ignore[valid-type]


def declared_rule(field: Any) -> PrecisionDirective | None:
    """The ``@precision`` declaration of a strawberry field, if it has one."""
    for directive in getattr(field, "directives", ()):
        if isinstance(directive, PrecisionDirective):
            return directive
    return None


# Rules that leave the value alone in the public view.
_UNCHANGED = frozenset({Rule.EXACT, Rule.CALLER, Rule.LABEL, Rule.SHARED})


@functools.cache
def _rules(cls: type) -> tuple[tuple[str, Rule], ...]:
    """(python name, public rule) of the fields of a strawberry type that do something."""
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    found = []
    for field in definition.fields:
        if field.type_annotation is not None and is_private(field.type_annotation.resolve()):
            continue
        declared = declared_rule(field)
        if declared is None:
            raise TypeError(f"{cls.__name__}.{field.python_name} declares no @precision rule")
        rule = Rule(declared.anonymous)
        if rule not in _UNCHANGED:
            found.append((field.python_name, rule))
    return tuple(found)


def coarsen(value: Any, view: View) -> Any:
    """``value`` (a strawberry object, a list of them, or None) as ``view`` may see it.

    Objects are rewritten in place: they are built for the one request. An object can
    withhold fields with a ``withheld_field(name)`` method; ``cell`` and ``is_count``
    attributes serve the CELL_CENTER and BY_METRIC rules."""
    if view.precise or value is None:
        return value
    if isinstance(value, list):
        return [coarsen(item, view) for item in value]
    if not has_object_definition(value):
        return value
    withheld = getattr(value, "withheld_field", None)
    for name, rule in _rules(type(value)):
        current = getattr(value, name)
        if rule is Rule.OBJECT:
            new = coarsen(current, view)
        elif withheld is not None and withheld(name):
            new = None
        elif rule is Rule.CELL_CENTER:
            cell = getattr(value, "cell", None)
            if current is None or cell is None:
                new = None
            else:
                latitude, longitude = coarse_point(cell, view.max_resolution)
                new = latitude if name == "latitude" else longitude
        else:
            new = public_value(rule, current, view, count=bool(getattr(value, "is_count", True)))
        setattr(value, name, new)
    return value


class PrecisionExtension(FieldExtension):
    """On fields with a resolver: applies the declared public rule to what it returns."""

    def __init__(self, anonymous: Rule) -> None:
        self.anonymous = anonymous

    def _apply(self, value: Any, info: strawberry.Info) -> Any:
        view: View = view_of(info.context)
        if view.precise:
            return value
        if self.anonymous is Rule.OBJECT:
            return coarsen(value, view)
        return public_value(self.anonymous, value, view)

    def resolve(self, next_: Any, source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        return self._apply(next_(source, info, **kwargs), info)

    async def resolve_async(
        self, next_: Any, source: Any, info: strawberry.Info, **kwargs: Any
    ) -> Any:
        return self._apply(await next_(source, info, **kwargs), info)


_SAME_FOR_ALL = (Rule.OBJECT, Rule.LABEL, Rule.CALLER)


def _directive(anonymous: Rule, orchestrator: Rule | None) -> PrecisionDirective:
    if orchestrator is None:
        orchestrator = anonymous if anonymous in _SAME_FOR_ALL else Rule.EXACT
    return PrecisionDirective(anonymous=anonymous, orchestrator=orchestrator)


def precise_field(
    anonymous: Rule, *, orchestrator: Rule | None = None, description: str, **kwargs: Any
) -> Any:
    """A data field (``strawberry.field``) with its precision rules declared. The
    orchestrator rule defaults to EXACT (to ``anonymous`` for OBJECT, LABEL, CALLER).
    Its object is coarsened by the field that returns it (``precise_resolver``)."""
    directive = _directive(anonymous, orchestrator)
    return strawberry.field(description=description, directives=[directive], **kwargs)


def precise_resolver(
    anonymous: Rule, *, orchestrator: Rule | None = None, description: str, **kwargs: Any
) -> Any:
    """Decorator: a resolver field with its precision rules declared, applying the
    public rule to what the resolver returns (``coarsen`` for OBJECT)."""
    directive = _directive(anonymous, orchestrator)
    extensions = [] if kwargs.get("is_subscription") else [PrecisionExtension(anonymous)]
    return strawberry.field(
        description=description, directives=[directive], extensions=extensions, **kwargs
    )
