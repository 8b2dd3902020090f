"""The GraphQL schema: root types assembled from the resolver modules."""

from __future__ import annotations

import strawberry

from resolvers.viewer import ViewerQuery


@strawberry.type
class Query(ViewerQuery):
    pass


schema = strawberry.Schema(query=Query)


def sdl() -> str:
    """The schema as SDL; ``schema.graphql`` is exactly this text."""
    return schema.as_str() + "\n"
