"""Programs a test runs in processes of their own: a server that must answer ``/readyz``
before the test goes on, and a tool (Prometheus, node_exporter) with its output in a
log the test can show when something goes wrong."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO

import httpx

from api.core.settings import Settings

# How often a starting server is asked whether it is ready.
POLL_SECONDS = 0.05


def server_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """This environment with the ``LPM_*`` that make a server use ``settings``'
    PostgreSQL, Redis, secret and data directory; ``overrides`` add or replace."""
    return {
        **os.environ,
        "LPM_DATABASE_URL": settings.database_url or "",
        "LPM_REDIS_URL": settings.redis_url or "",
        "LPM_REDIS_PREFIX": settings.redis_prefix,
        "LPM_SECRET": settings.secret or "",
        "LPM_DATA_DIR": str(settings.data_dir),
        **overrides,
    }


def lpmetrics_serve(port: int) -> list[str]:
    """The command a user runs: ``lpmetrics serve`` from this environment."""
    lpmetrics = Path(sys.executable).parent / "lpmetrics"
    return [str(lpmetrics), "serve", "--host", "127.0.0.1", "--port", str(port)]


@contextlib.contextmanager
def ready_server(
    command: list[str],
    port: int,
    env: dict[str, str],
    *,
    name: str,
    ready_seconds: float,
    output: int | IO[str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``command`` (a server on ``port``), wait until its ``/readyz`` answers 200
    and yield (its base URL, the process); terminate it on leaving. ``output`` takes
    stdout and stderr both (``None``: this process's own)."""
    streams = {} if output is None else {"stdout": output, "stderr": subprocess.STDOUT}
    process = subprocess.Popen(command, env=env, **streams)  # type: ignore[call-overload]
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_seconds
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited")
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not get ready")
            time.sleep(POLL_SECONDS)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.asynccontextmanager
async def logged_process(
    command: list[str], log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run ``command`` with its output in ``log``; on leaving, terminate it (killed if
    it has not stopped after 30 s) without blocking the event loop: a server under test
    may run on it, and a stopping Prometheus agent flushes its queue to that server."""
    out = log.open("w")
    process = await asyncio.create_subprocess_exec(
        *command, stdout=out, stderr=asyncio.subprocess.STDOUT
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()
        out.close()
