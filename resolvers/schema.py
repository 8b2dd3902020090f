"""The GraphQL schema: root types assembled from the resolver modules."""

from __future__ import annotations

import strawberry

from resolvers.account import AccountMutation
from resolvers.execution import PlainFieldExecution
from resolvers.statistics import EXTENSIONS, StatisticsQuery, Subscription
from resolvers.viewer import ViewerQuery


@strawberry.type
class Query(ViewerQuery, StatisticsQuery):
    pass


@strawberry.type
class Mutation(AccountMutation):
    pass


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=EXTENSIONS,
    execution_context_class=PlainFieldExecution,
)


def sdl() -> str:
    """The schema as SDL; ``schema.graphql`` is exactly this text."""
    return schema.as_str() + "\n"
