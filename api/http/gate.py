"""The door of ``/graphql``: settles who is calling before any GraphQL runs.

A request whose credentials are refused gets a GraphQL-shaped error with the HTTP
status that says so (GraphQL over HTTP: the request failed before execution, so there
is no ``data``), e.g.::

    HTTP/1.1 401 Unauthorized
    WWW-Authenticate: Bearer realm="lpmetrics", error="invalid_token"

    {"errors": [{"message": "the API token is unknown or revoked",
                 "extensions": {"code": "UNAUTHENTICATED"}}]}

A refused WebSocket handshake gets the same response where the server supports the
WebSocket denial response extension, and is otherwise closed before it is accepted
(which servers answer with 403). A session cookie whose session has ended is
removed from the browser with a ``Set-Cookie`` on the response."""

from __future__ import annotations

import logging

from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from api.core.errors import ServiceError, ServiceUnavailable
from api.core.outage import STORAGE_AWAY
from api.core.services import Services
from api.http.errors import error_response
from api.http.media import CONTENT_TYPE as GRAPHQL_RESPONSE_CONTENT_TYPE
from api.http.media import wants_graphql_response
from auth.identity import STALE_COOKIE_KEY, identify
from auth.sessions import COOKIE_NAME, clear_session_cookie

logger = logging.getLogger(__name__)


class AuthGate:
    """Wraps an ASGI app (the GraphQL endpoint) with credential checks."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        services: Services = connection.app.state.services
        try:
            await identify(connection, services)
        except ServiceError as exc:
            await self._refuse(scope, receive, send, error_response(exc))
            return
        except STORAGE_AWAY as exc:
            logger.warning("cannot check credentials: %s: %s", type(exc).__name__, exc)
            unavailable = ServiceUnavailable(
                "credentials cannot be checked right now (storage unavailable); try again",
                retry_after=5,
            )
            await self._refuse(scope, receive, send, error_response(unavailable))
            return
        if scope["type"] == "http" and scope.get(STALE_COOKIE_KEY):
            send = self._clearing_cookie(send, services)
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, response: Response) -> None:
        if scope["type"] == "http":
            if wants_graphql_response(HTTPConnection(scope).headers.get("accept")):
                response.headers["content-type"] = GRAPHQL_RESPONSE_CONTENT_TYPE
            await response(scope, receive, send)
            return
        websocket = WebSocket(scope, receive, send)
        if "websocket.http.response" in scope.get("extensions", {}):
            await websocket.send_denial_response(response)
        else:
            await websocket.close(code=1008)

    @staticmethod
    def _clearing_cookie(send: Send, services: Services) -> Send:
        carrier = Response()
        clear_session_cookie(carrier, services.settings)
        set_cookie = [(k, v) for k, v in carrier.raw_headers if k == b"set-cookie"]

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                # signIn in this very request set a fresh cookie: that one stays.
                if not any(
                    k.lower() == b"set-cookie" and v.startswith(COOKIE_NAME.encode() + b"=")
                    for k, v in headers
                ):
                    message = {**message, "headers": [*headers, *set_cookie]}
            await send(message)

        return send_with_cookie
