"""The ``/graphql`` endpoint: strawberry on Starlette, GraphiQL for browsers, and
graphql-transport-ws subscriptions on the same path.

In front of strawberry sits the response cache (``api.http.cache``): a query already
answered for the current tick is sent from the cache without running GraphQL, when its
answer is the same for every caller of its view class (``_shared_key``).
Each request is pinned to one tick (``api.stats.ticks``) before anything runs, so the
cached body and the figures in it always belong to the same tick.

A WebSocket connection is authenticated at its handshake; no operation starts on it
once that credential has ended (``_TransportWS``), and running subscriptions follow it
themselves (``auth.watch``)."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping

import orjson
from cross_web import HTTPException
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from api.core.errors import AuthError
from api.core.outage import STORAGE_AWAY
from api.core.services import Services
from api.http.cache import MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, Cached, cache_for, request_key
from api.http.media import CONTENT_TYPE, request_error_status, wants_graphql_response
from api.playground import playground_page
from api.stats.ticks import ticks_for
from auth.connection_params import identify_connection_params
from auth.identity import Identity, identify
from auth.watch import seconds_left
from resolvers.context import Context
from resolvers.limits import add_codes
from resolvers.sameness import same_for_every_caller
from resolvers.schema import schema
from resolvers.view import identity_of, prepare

_TICK = "lpm.tick"
_REQUEST_ERROR = "lpm.request_error"

log = logging.getLogger(__name__)


class _TextFrames(ASGIWebSocketAdapter):
    """Every graphql-transport-ws message as a text frame: browsers' graphql-ws closes
    on binary ones (4004), and the encoder gives bytes."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class _TransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws that starts no operation (query, mutation or subscription)
    once the credential of the connection has ended: one check per operation. The
    operation gets an ``error`` message, UNAUTHENTICATED; the connection stays, so its
    other operations end on their own terms."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and message["id"] not in self.operations:
            try:
                await seconds_left(self.context.services, identity_of(self.context))
            except Exception as exc:  # ended, or the stores cannot say: nothing runs
                error = GraphQLError(str(exc), original_error=exc)
                add_codes([error])  # UNAUTHENTICATED, SERVICE_UNAVAILABLE or internal
                if error.extensions["code"] == "INTERNAL_SERVER_ERROR":
                    log.exception("cannot check a WebSocket's credential", exc_info=exc)
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [error.formatted]}
                )
                return
        await super().handle_subscribe(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        """Credentials in the payload (``auth.connection_params``) replace the
        handshake's; refused ones close the connection with 4403."""
        payload = message.get("payload")
        if isinstance(payload, dict) and not self.connection_init_received:
            try:
                if await identify_connection_params(
                    payload, self.context.request, self.context.services
                ):
                    await prepare(self.context)
            except AuthError as exc:
                await self._close_before_ack(4403, f"Forbidden: {exc.message}")
                return
            except STORAGE_AWAY as exc:
                log.warning("cannot check WebSocket credentials: %s", exc)
                await self._close_before_ack(1013, "credentials cannot be checked right now")
                return
        await super().handle_connection_init(message)

    async def _close_before_ack(self, code: int, reason: str) -> None:
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        self.connection_init_received = True
        # A close reason has at most 123 bytes.
        await self.websocket.close(code, reason.encode()[:123].decode(errors="ignore"))


class GraphQLApp(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = _TransportWS
    websocket_adapter_class = _TextFrames  # type: ignore[assignment]

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
        context = Context(
            services=request.app.state.services,
            request=request,
            response=response if isinstance(response, Response) else None,
        )
        await prepare(context, tick=request.scope.get(_TICK))
        return context

    async def render_graphql_ide(self, request: Request) -> Response:
        return playground_page()  # vendored GraphiQL, nothing from other hosts

    def encode_json(self, data: object) -> bytes:
        # orjson: a tenth of json.dumps' time on a dashboard answer (~9 % of a
        # signed-in request). Non-finite floats become null, which JSON can carry.
        return orjson.dumps(data)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        add_codes(result.errors)
        processed = await super().process_result(request, result)
        if wants_graphql_response(request.headers.get("accept")):
            status = request_error_status(result)
            if status is not None:
                # application/graphql-response+json: nothing ran, so no "data", and 4xx/5xx.
                request.scope[_REQUEST_ERROR] = status
                processed.pop("data", None)
        return processed

    async def run(self, request, context=UNSET, root_value=UNSET):  # type: ignore[no-untyped-def]
        try:
            response = await super().run(request, context, root_value)
        except HTTPException as exc:
            if not isinstance(request, Request):
                raise
            # Not GraphQL over HTTP (body, method, operation name): said as GraphQL.
            code = "METHOD_NOT_ALLOWED" if exc.status_code == 405 else "BAD_REQUEST"
            error = {"message": exc.reason, "extensions": {"code": code}}
            response = Response(
                orjson.dumps({"errors": [error]}),
                status_code=exc.status_code,
                media_type="application/json",
            )
        if isinstance(request, Request) and isinstance(response, Response):
            _as_graphql_response(request, response)
        return response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if scope["type"] == "http" and scope["method"] in ("GET", "POST"):
                await self._http(scope, receive, send)
            else:
                await super().__call__(scope, receive, send)
        except ClientDisconnect:
            pass  # the client left before sending its whole request: nobody to answer

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        services: Services = request.app.state.services
        tick = scope[_TICK] = ticks_for(services).now()
        content, receive = await _cache_content(request, receive)
        key = None
        if content is not None:
            key = _shared_key(scope["method"], content, await identify(request, services))
        if key is None:
            await super().__call__(scope, receive, send)
            return
        cache = cache_for(services)
        cached = await cache.get(services, tick, key)
        if cached is None:
            running = cache.leader(tick, key)
            if running is not None:
                cached = await running
            else:
                try:
                    cached = await self._answer_and_keep(scope, receive, send, request, content)
                finally:
                    cache.settle(tick, key, cached)
                if cached is not None:
                    await cache.put(services, tick, key, cached)
                return
        if cached is None:
            await super().__call__(scope, receive, send)
        else:
            await _send_cached(send, cached, request)

    async def _answer_and_keep(
        self, scope: Scope, receive: Receive, send: Send, request: Request, content: bytes
    ) -> Cached | None:
        """Answer through strawberry, and return the response if it may be cached."""
        status = 0
        content_type = b""
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    if name.lower() == b"content-type":
                        content_type = value
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await super().__call__(scope, receive, capture)
        body = b"".join(chunks)
        if status != 200 or len(body) > MAX_RESPONSE_BYTES:
            return None
        if not content_type.startswith((b"application/json", CONTENT_TYPE.encode())):
            return None
        if not _is_query(request.method, content) or _has_errors(body):
            return None
        return Cached(body, content_type)


def _as_graphql_response(request: Request, response: Response) -> None:
    """The answer in the media type the client asked for (``api.http.media``)."""
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith("application/json"):
        return  # the playground page, streams
    if not wants_graphql_response(request.headers.get("accept")):
        return
    response.headers["content-type"] = CONTENT_TYPE
    status = request.scope.get(_REQUEST_ERROR)
    if status and response.status_code == 200:
        response.status_code = status


async def _cache_content(request: Request, receive: Receive) -> tuple[bytes | None, Receive]:
    """What identifies a cacheable request (None if it is not one), and a ``receive``
    that replays the body for strawberry."""
    if request.method == "GET":
        if "text/html" in request.headers.get("accept", ""):  # GraphiQL
            return None, receive
        return request.scope.get("query_string", b""), receive
    if not request.headers.get("content-type", "").startswith("application/json"):
        return None, receive
    try:
        body = await request.body()
    except ClientDisconnect:
        return None, receive  # nobody left to answer; strawberry finds out too
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return (body if len(body) <= MAX_REQUEST_BYTES else None), replay


def _shared_key(method: str, content: bytes, identity: Identity) -> str | None:
    """The cache key of a request whose answer its caller shares with others, or None.

    Anonymous callers all share one view, whatever they ask. A signed-in caller shares
    the answer with every caller of its view class (precise, or the public view when
    downgraded) only for documents that answer the same whoever asks
    (``resolvers.sameness``); its own data, tokens or sessions are never shared."""
    key = request_key(method, content)
    if identity.role == "ANONYMOUS":
        return key
    operation = _operation(method, content)
    if operation is None or not same_for_every_caller(*operation):
        return None
    return ("precise:" if identity.precise else "") + key


def _operation(method: str, content: bytes) -> tuple[str, str | None] | None:
    """The document and operation name of a request, None when it has none."""
    try:
        if method == "GET":
            params = Request({"type": "http", "query_string": content}).query_params
            text, name = params.get("query"), params.get("operationName")
        else:
            payload = json.loads(content)
            if not isinstance(payload, dict):
                return None
            text, name = payload.get("query"), payload.get("operationName")
    except ValueError:
        return None
    if not isinstance(text, str) or not (name is None or isinstance(name, str)):
        return None
    return text, name


def _is_query(method: str, content: bytes) -> bool:
    """True when the request's operation is a query (mutations are never cached)."""
    operation = _operation(method, content)
    return operation is not None and _operation_type(*operation) == OperationType.QUERY


@functools.lru_cache(maxsize=512)
def _operation_type(text: str, name: str | None) -> OperationType | None:
    try:
        operation = get_operation_ast(parse(text), name)
    except GraphQLError:
        return None
    return operation.operation if operation is not None else None


def _has_errors(body: bytes) -> bool:
    try:
        payload = json.loads(body)
    except ValueError:
        return True
    return not isinstance(payload, dict) or bool(payload.get("errors"))


async def _send_cached(send: Send, cached: Cached, request: Request) -> None:
    # Only answers without errors are kept, and those read the same in both media types.
    content_type = (
        CONTENT_TYPE.encode()
        if wants_graphql_response(request.headers.get("accept"))
        else b"application/json"
    )
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(cached.body)).encode()),
                (b"x-lpm-cache", b"hit"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": cached.body})
