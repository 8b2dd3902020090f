"""The GraphQL schema: root types assembled from the resolver modules."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from resolvers.account import AccountMutation
from resolvers.execution import PlainFieldExecution
from resolvers.limits import error_code
from resolvers.statistics import EXTENSIONS, StatisticsQuery, Subscription
from resolvers.viewer import ViewerQuery


@strawberry.type
class Query(ViewerQuery, StatisticsQuery):
    pass


@strawberry.type
class Mutation(AccountMutation):
    pass


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Refusals (bad input, credentials, limits) are answers, not faults: logging each
        # with a traceback buries the internal errors an operator must see.
        faults = [e for e in errors if _code_of(e) == "INTERNAL_SERVER_ERROR"]
        super().process_errors(faults, execution_context)


def _code_of(error: GraphQLError) -> str:
    extensions = error.extensions if isinstance(error.extensions, dict) else {}
    return str(extensions.get("code") or error_code(error))


schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=EXTENSIONS,
    execution_context_class=PlainFieldExecution,
)


def sdl() -> str:
    """The schema as SDL; ``schema.graphql`` is exactly this text."""
    return schema.as_str() + "\n"
