"""A real server in a process of its own that follows the rollup ticks and runs no
other worker, for tests of what crosses processes (``LPM_*`` from the environment):

    python -m uvicorn tests.support.stats_server:create --factory --port 8000
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
from starlette.applications import Starlette

from api.core.settings import Settings, load_settings
from api.http.app import create_app
from api.stats.ticks import follow_rollups
from tests.support.services import free_port


def create() -> Starlette:
    return create_app(load_settings(), workers=[follow_rollups])


@contextlib.contextmanager
def server_process(settings: Settings) -> Iterator[str]:
    """Run ``create`` with ``settings`` in a subprocess; yield its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "LPM_DATABASE_URL": settings.database_url or "",
        "LPM_REDIS_URL": settings.redis_url or "",
        "LPM_REDIS_PREFIX": settings.redis_prefix,
        "LPM_SECRET": settings.secret or "",
        "LPM_DATA_DIR": str(settings.data_dir),
        "LPM_CORS_ORIGINS": ",".join(settings.cors_origins),
    }
    command = [
        sys.executable, "-m", "uvicorn", "tests.support.stats_server:create", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        "--ws", "websockets-sansio",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if process.poll() is not None:
                raise RuntimeError("the server process exited")
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            subprocess.run(["sleep", "0.05"], check=True)
        else:
            raise RuntimeError("the server process did not get ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
