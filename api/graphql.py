"""The ``/graphql`` endpoint: strawberry on Starlette, GraphiQL for browsers, and
graphql-transport-ws subscriptions on the same path."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from resolvers.context import Context
from resolvers.schema import schema


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, allowed_origins: tuple[str, ...]) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            allow_queries_via_get=True,
            allowed_origins=allowed_origins,
        )

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        return Context(
            services=request.app.state.services,
            request=request,
            response=response if isinstance(response, Response) else None,
        )
