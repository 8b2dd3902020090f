"""Root field ``access``: how precise this caller's figures are, and why."""

from __future__ import annotations

import strawberry

from api.disclosure.precision import PUBLIC_MIN_STEP, Rule
from resolvers.context import Context
from resolvers.fields import precise_field, precise_resolver
from resolvers.view import view_of


@strawberry.type(description="The precision this caller is served, and the public view's rules.")
class Access:
    precise: bool = precise_field(
        Rule.CALLER,
        description="True for a signed-in orchestrator served exact figures.",
    )
    reason: str | None = precise_field(
        Rule.CALLER,
        description=(
            "Why a signed-in orchestrator is served the public view (e.g. reciprocity:"
            " none of its nodes delivered data in the last 24 hours); null otherwise."
        ),
    )
    min_orchestrators: int = precise_field(
        Rule.EXACT,
        description="Public view: regions need this many reporting orchestrators.",
    )
    count_bin: int = precise_field(
        Rule.EXACT, description="Public view: counts are rounded up to multiples of this."
    )
    max_resolution: int = precise_field(
        Rule.EXACT, description="Public view: the finest H3 resolution."
    )
    min_step: int = precise_field(
        Rule.EXACT, description="Public view: the smallest series step, in seconds."
    )


@strawberry.type
class AccessQuery:
    @precise_resolver(Rule.OBJECT, description="How precise your figures are, and why.")
    def access(self, info: strawberry.Info[Context, None]) -> Access:
        view = view_of(info.context)
        return Access(
            precise=view.precise,
            reason=view.reason,
            min_orchestrators=view.min_orchestrators,
            count_bin=view.count_bin,
            max_resolution=view.max_resolution,
            min_step=PUBLIC_MIN_STEP,
        )
