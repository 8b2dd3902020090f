"""Liveness and readiness endpoints for load balancers and orchestration.

Ready means "can store what orchestrators send and answer statistics": PostgreSQL is
needed, Redis is not (docs/architecture.md, "Without Redis"). With Redis down
``/readyz`` still answers 200, saying ``degraded``, so a load balancer keeps sending
ingest and queries while sign-in is refused."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse

from api.core.services import Services

_CHECK_TIMEOUT = 2.0


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok\n")


async def _postgres_ok(services: Services) -> bool:
    try:
        async with asyncio.timeout(_CHECK_TIMEOUT):
            return await services.db.fetchval("SELECT 1") == 1
    except Exception:  # any failure means "not ready"; the detail goes to the logs
        return False


async def _redis_ok(services: Services) -> bool:
    try:
        async with asyncio.timeout(_CHECK_TIMEOUT):
            return bool(await services.redis.ping())
    except Exception:
        return False


async def readyz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    postgres, redis = await asyncio.gather(_postgres_ok(services), _redis_ok(services))
    checks = {"postgres": "ok" if postgres else "down", "redis": "ok" if redis else "down"}
    down = [name for name, state in checks.items() if state != "ok"]
    if not down:
        status = "ready"
    elif postgres:
        status = "degraded: redis down (no sign-in or sessions; limits per process)"
    else:
        status = f"unavailable: {', '.join(down)} down"
    body = {"status": status, **checks}
    return JSONResponse(body, status_code=200 if postgres else 503)
