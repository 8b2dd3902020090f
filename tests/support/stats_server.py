"""A real server in a process of its own that follows the rollup ticks and runs no
other worker, for tests of what crosses processes (``LPM_*`` from the environment):

    python -m uvicorn tests.support.stats_server:create --factory --port 8000
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from starlette.applications import Starlette

from api.core.settings import Settings, load_settings
from api.http.app import create_app
from api.stats.ticks import follow_rollups
from tests.support.processes import ready_server, server_env
from tests.support.services import free_port


def create() -> Starlette:
    return create_app(load_settings(), workers=[follow_rollups])


@contextlib.contextmanager
def server_process(settings: Settings) -> Iterator[str]:
    """Run ``create`` with ``settings`` in a subprocess; yield its base URL."""
    port = free_port()
    env = server_env(settings, LPM_CORS_ORIGINS=",".join(settings.cors_origins))
    command = [
        sys.executable, "-m", "uvicorn", "tests.support.stats_server:create", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        "--ws", "websockets-sansio",
    ]  # fmt: skip
    started = ready_server(command, port, env, name="the server process", ready_seconds=30)
    with started as (url, _process):
        yield url
