"""``POST /api/v1/write``: Prometheus remote write 1.0 and 2.0 from orchestrators.

Answers (DESIGN §5): 204 stored; 400 malformed or invalid; 401 unknown or revoked
token; 413 too large; 415 wrong content type or encoding; 429 over the orchestrator's
rate or series limit, with Retry-After; 503 storage unavailable. Only 429 and 503 are
retried by Prometheus, and a retried request never stores anything twice. Every answer
to a 2.0 request carries the ``X-Prometheus-Remote-Write-*-Written`` headers.

Messages name problems and label *names*, never label values.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import asyncpg
import redis.exceptions
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from api.core.errors import RateLimited, ServiceError, Unauthenticated
from api.core.metrics import INGEST_DROPPED, INGEST_DURATION, INGEST_REQUESTS, INGEST_SAMPLES
from api.core.services import Services
from api.ingest.batch import Batch
from api.ingest.catalog import Catalog
from api.ingest.known import batch as to_batch
from api.ingest.known import receive
from api.ingest.limits import REPORT_EVERY_SECONDS, Limiter
from api.ingest.partitions import day_start, oldest_kept_day
from api.ingest.sharing import shared_metrics
from api.ingest.status import StatusRecorder
from api.ingest.storage import store
from api.remote_write import (
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    MalformedRequest,
    RequestTooLarge,
    UnsupportedMediaType,
    Version,
    negotiate,
    written_headers,
)
from api.remote_write.compression import decompress
from auth.tokens import verify_token

log = logging.getLogger(__name__)

MAX_FUTURE_SECONDS = 600
"""Samples may be this far ahead of the server's clock (senders' clocks drift)."""
STORE_TIMEOUT_SECONDS = 20.0
"""Below Prometheus' default remote_timeout (30 s), so it sees our 503, not a timeout."""
NODE_SEEN_EVERY_SECONDS = 60.0
UNAVAILABLE_RETRY_AFTER = "5"
_ORCHESTRATOR = "lpmetrics.orchestrator"
"""Scope key: whose request this is, once its token is verified."""

# What "storage unavailable" looks like: PostgreSQL or Redis gone, slow or restarting.
UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


class IngestEndpoint:
    """The ASGI endpoint; one per app, holding that app's per-process caches."""

    def __init__(self) -> None:
        self._catalog: Catalog | None = None
        self._limiter = Limiter()
        self._node_seen: dict[int, float] = {}
        self._status = StatusRecorder()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.respond(request)
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        start = time.perf_counter()
        services: Services = request.app.state.services
        try:
            version = negotiate(
                request.headers.get("content-type"), request.headers.get("content-encoding")
            )
            unsupported = None
        except UnsupportedMediaType as exc:
            version, unsupported = None, exc
        stored = 0
        try:
            stored = await self._ingest(request, services, version, unsupported)
            response: Response = Response(status_code=204)
        except ServiceError as exc:
            response = PlainTextResponse(exc.message + "\n", exc.status_code, headers=exc.headers)
            if exc.status_code in (400, 413, 415):
                self._invalid(request, services, exc.message)
        except ClientDisconnect:
            # The sender gave up (its remote_timeout) before the body arrived: nothing
            # was stored and it retries; no one is left to read an answer.
            log.warning("ingest: client disconnected before its request was read")
            response = _client_gone()
        except UNAVAILABLE as exc:
            log.warning("ingest unavailable: %s: %s", type(exc).__name__, exc)
            response = _unavailable()
        except Exception:
            # A bug must not cost data: Prometheus retries a 503 until it is fixed.
            log.exception("ingest failed")
            response = _unavailable()
        if version == 2:
            response.headers.update(written_headers(stored))
        INGEST_REQUESTS.labels(str(response.status_code)).inc()
        INGEST_DURATION.observe(time.perf_counter() - start)
        return response

    async def _ingest(
        self,
        request: Request,
        services: Services,
        version: Version | None,
        unsupported: UnsupportedMediaType | None,
    ) -> int:
        """Store the request; return the samples stored (or stored before, on a retry)."""
        token = _bearer(request)
        record = await verify_token(services, token, "ingest") if token else None
        if record is None:
            raise Unauthenticated(
                "missing, unknown or revoked ingest token (Authorization: Bearer lpm_...)",
                headers={"WWW-Authenticate": 'Bearer realm="lpmetrics"'},
            )
        orchestrator = record.orchestrator
        request.scope[_ORCHESTRATOR] = orchestrator
        if version is None:
            assert unsupported is not None
            raise unsupported
        body = await _read_body(request, services.settings.ingest_max_body_bytes)
        raw = decompress(body, max_decompressed_bytes=DEFAULT_MAX_DECOMPRESSED_BYTES)
        catalog = self._catalog_for(services)
        received = receive(raw, version, catalog, orchestrator)
        INGEST_SAMPLES.labels("received", "").inc(received.samples)
        shared = await shared_metrics(services.db, orchestrator)
        now = datetime.now(UTC)
        oldest = day_start(oldest_kept_day(services.settings.raw_retention_days, now.date()))
        batch = to_batch(
            received,
            orchestrator,
            shared,
            catalog,
            oldest_ms=int(oldest.timestamp() * 1000),
            newest_ms=int((now + timedelta(seconds=MAX_FUTURE_SECONDS)).timestamp() * 1000),
        )
        await self._admit(services, orchestrator, batch, received.samples)
        self._status.accepted(services, orchestrator, batch)
        stored = await self._store(services, orchestrator, body, batch)
        _count_drops(orchestrator, batch.dropped)
        return stored

    def _invalid(self, request: Request, services: Services, message: str) -> None:
        """A request refused as unusable (400, 413, 415), for its sender's status."""
        orchestrator = request.scope.get(_ORCHESTRATOR)
        if orchestrator is not None:
            self._status.refused(services, orchestrator, "invalid", 0, message)

    def _catalog_for(self, services: Services) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog(services.secret, services.geolocator)
        return self._catalog

    async def _admit(
        self, services: Services, orchestrator: str, batch: Batch, received: int
    ) -> None:
        now = time.monotonic()
        due = [i for i in batch.series if now - i.reported_at > REPORT_EVERY_SECONDS]
        refusal = await self._limiter.admit(
            services, orchestrator, received, [i.digest for i in due]
        )
        if refusal is not None:
            INGEST_SAMPLES.labels("rejected", refusal.reason).inc(received)
            self._status.refused(services, orchestrator, refusal.reason, received, refusal.message)
            raise RateLimited(refusal.message, refusal.retry_after)
        for info in due:
            info.reported_at = now

    async def _store(self, services: Services, orchestrator: str, body: bytes, batch: Batch) -> int:
        if not batch.chunks:
            return 0
        catalog = self._catalog_for(services)
        digest = hmac.new(services.secret, body, hashlib.sha256).digest()
        now = time.monotonic()
        async with asyncio.timeout(STORE_TIMEOUT_SECONDS):
            await catalog.resolve(services.db, orchestrator, batch.series)
            nodes = {i.node_id for i in batch.series}
            touch = [
                n for n in nodes if now - self._node_seen.get(n, -1e9) > NODE_SEEN_EVERY_SECONDS
            ]
            try:
                result = await store(
                    services.db, orchestrator, digest, batch.chunks, touch_nodes=touch
                )
            except asyncpg.ForeignKeyViolationError:
                # Nodes deleted since we cached their ids: look them up again, once.
                catalog.forget(orchestrator)
                await catalog.resolve(services.db, orchestrator, batch.series)
                result = await store(
                    services.db, orchestrator, digest, batch.chunks, touch_nodes=touch
                )
        for node in touch:
            self._node_seen[node] = now
        if result.duplicate:
            INGEST_SAMPLES.labels("dropped", "duplicate_batch").inc(batch.stored)
        else:
            INGEST_SAMPLES.labels("stored", "").inc(result.samples)
        self._status.stored(
            services, orchestrator, batch, 0 if result.duplicate else result.samples
        )
        return result.samples


def _client_gone() -> Response:
    # 499 (nginx's "client closed request"): counted in the metrics, never sent.
    return Response(status_code=499)


def _unavailable() -> Response:
    return PlainTextResponse(
        "storage unavailable; retry later\n", 503, headers={"Retry-After": UNAVAILABLE_RETRY_AFTER}
    )


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise MalformedRequest("Content-Length is not a number")
        if int(declared) > limit:
            raise RequestTooLarge(f"body of {declared} bytes exceeds the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(f"body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _count_drops(orchestrator: str, dropped: Counter[str]) -> None:
    for reason, count in dropped.items():
        INGEST_SAMPLES.labels("dropped", reason).inc(count)
        INGEST_DROPPED.labels(orchestrator, reason).inc(count)
