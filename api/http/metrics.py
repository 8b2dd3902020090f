"""``GET /metrics``, and counting every HTTP request (the metrics: ``api.core.metrics``)."""

from __future__ import annotations

import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.metrics import HTTP_DURATION, HTTP_REQUESTS, MULTIPROCESS_DIR


def _registry() -> CollectorRegistry:
    if os.environ.get(MULTIPROCESS_DIR):
        # One of several processes: answer for all of them.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


async def metrics_endpoint(request: Request) -> Response:
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)


class RequestMetricsMiddleware:
    """Counts every HTTP request by its route template, never by its raw path, so a
    scanner cannot blow up the label cardinality."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            HTTP_REQUESTS.labels(name, str(status)).inc()
            HTTP_DURATION.labels(name).observe(time.perf_counter() - start)
