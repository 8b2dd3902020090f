"""``GET /metrics``, and counting every HTTP request (the metrics: ``api.core.metrics``)."""

from __future__ import annotations

import os
import time
from typing import Any

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
    scanner cannot blow up the label cardinality.

    The labelled children are kept here: ``labels()`` validates and locks on every
    call, which cost more than the rest of a ``/healthz`` answer put together."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._counters: dict[tuple[str, int], Any] = {}
        self._timers: dict[str, Any] = {}

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
            counter = self._counters.get((name, status))
            if counter is None:
                counter = self._counters[name, status] = HTTP_REQUESTS.labels(name, str(status))
            timer = self._timers.get(name)
            if timer is None:
                timer = self._timers[name] = HTTP_DURATION.labels(name)
            counter.inc()
            timer.observe(time.perf_counter() - start)
