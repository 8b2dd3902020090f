"""Posting remote-write bodies with Prometheus' delivery rules.

Like Prometheus' remote-write queue: a 5xx or a 429 answer, a timeout or a connection
error is retried (the service stores a retried body only once), waiting what
``Retry-After`` says or else an exponential backoff from ``min_backoff`` to
``max_backoff``; any other 4xx is final and the batch is dropped. A 401 is raised
apart, because it means the token is wrong for this server (e.g. the server uses
another database), which no retry fixes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from api.demo.encode import HEADERS
from api.ingest.prometheus_config import write_url

log = logging.getLogger(__name__)

USER_AGENT = "lpmetrics-demo-load/1"
MAX_RETRY_AFTER_SECONDS = 300.0


class Rejected(Exception):
    """The server refused a batch for good (a 4xx other than 429)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class Unauthorized(Rejected):
    """The server does not know the ingest token."""


@dataclass(slots=True)
class WriteStats:
    requests: int = 0
    samples: int = 0
    retries: int = 0
    rejected: int = 0


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    wait = moment.timestamp() - (time.time() if now is None else now)
    return min(max(0.0, wait), MAX_RETRY_AFTER_SECONDS)


class RemoteWriter:
    """Sends bodies to ``<base_url>/api/v1/write``; one per run, shared by all senders."""

    def __init__(
        self,
        base_url: str,
        *,
        min_backoff: float = 1.0,
        max_backoff: float = 30.0,
        timeout: float = 30.0,
    ) -> None:
        self.url = write_url(base_url)
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.stats = WriteStats()
        self._client = httpx.AsyncClient(
            timeout=timeout, headers={**HEADERS, "User-Agent": USER_AGENT}
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> RemoteWriter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def send(self, token: str, body: bytes, samples: int) -> None:
        """Deliver ``body`` (holding ``samples`` samples), retrying until it is stored.

        Raises ``Unauthorized`` on 401 and ``Rejected`` on any other final 4xx."""
        backoff = self.min_backoff
        headers = {"Authorization": f"Bearer {token}"}
        while True:
            wait: float | None
            try:
                response = await self._client.post(self.url, content=body, headers=headers)
            except httpx.TransportError as exc:
                log.debug("remote write to %s failed: %s", self.url, exc)
                wait = None
            else:
                status = response.status_code
                if 200 <= status < 300:
                    self.stats.requests += 1
                    self.stats.samples += samples
                    return
                if status != 429 and status < 500:
                    self.stats.rejected += 1
                    message = response.text.strip()[:300]
                    if status == 401:
                        raise Unauthorized(status, message)
                    raise Rejected(status, message)
                log.debug("remote write answered %d; retrying", status)
                wait = retry_after(response.headers.get("retry-after"))
            self.stats.retries += 1
            await asyncio.sleep(backoff if wait is None else wait)
            if wait is None:
                backoff = min(backoff * 2, self.max_backoff)
