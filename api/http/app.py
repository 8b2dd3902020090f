"""The ASGI application."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute

from api.assets import assets_route
from api.core.services import open_services
from api.core.settings import Settings
from api.http.gate import AuthGate
from api.http.graphql import GraphQLApp
from api.http.health import healthz, readyz
from api.http.metrics import RequestMetricsMiddleware, metrics_endpoint
from api.http.nonce import nonce_endpoint
from api.ingest.endpoint import IngestEndpoint
from api.map import map_routes
from api.playground import playground_route
from api.rollup.workers import Worker, default_workers, supervise


def create_app(
    settings: Settings, *, workers: Sequence[Worker] | None = None, freeze_gc: bool = False
) -> Starlette:
    """Build the app for ``settings`` (database and Redis URLs already resolved).

    ``freeze_gc`` moves everything allocated during start-up out of the garbage
    collector's reach: under load, full collections over the long-lived schema and
    module objects otherwise pause the process ~90 ms every second. Only for a
    process that serves one app for its lifetime."""
    run = default_workers(settings) if workers is None else list(workers)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            app.state.services = services
            tasks = [asyncio.create_task(supervise(w, services)) for w in run]
            if freeze_gc:
                gc.collect()
                gc.freeze()
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    graphql = GraphQLApp(allowed_origins=settings.cors_origins)
    # CORS only where browsers call from other origins (the explorer): Starlette's
    # middleware wraps every response it sees to add `Vary: Origin`, which cost /healthz,
    # /metrics and ingest more than the rest of their answer (tests/bench/floor.py).
    cors = [
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_credentials=True,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    ]
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/api/v1/write", IngestEndpoint(), methods=["POST"]),
        Route("/graphql", AuthGate(graphql), methods=["GET", "POST", "OPTIONS"], middleware=cors),
        WebSocketRoute("/graphql", AuthGate(graphql)),
        Route("/auth/nonce", nonce_endpoint, methods=["GET", "OPTIONS"], middleware=cors),
        assets_route(),
        playground_route(),
        *map_routes(settings.cors_origins),
    ]
    middleware = [Middleware(RequestMetricsMiddleware)]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
