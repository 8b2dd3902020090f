"""Liveness and readiness endpoints for load balancers and orchestration."""

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
    body = {"status": "ready" if not down else f"unavailable: {', '.join(down)} down", **checks}
    return JSONResponse(body, status_code=503 if down else 200)
