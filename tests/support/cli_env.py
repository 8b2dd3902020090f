"""Running the real ``lpmetrics`` entry point against a test's database and Redis.

``main`` runs in a worker thread (it starts its own event loop, as from a shell) with
the test's settings in ``LPM_*`` environment variables, so a test can check what it
printed, its exit status and the database afterwards. ``cli_process`` runs it as a
process of its own, as a user's shell does."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from api.cli import main
from api.core.settings import Settings


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def env_for(settings: Settings) -> dict[str, str]:
    """The environment that makes ``lpmetrics`` use ``settings``' servers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LPM_")}
    env.update(
        LPM_DATABASE_URL=settings.database_url or "",
        LPM_REDIS_URL=settings.redis_url or "",
        LPM_REDIS_PREFIX=settings.redis_prefix,
        LPM_DATA_DIR=str(settings.data_dir),
        LPM_SECRET=settings.secret or "",
        LPM_GEOIP_DB=str(settings.geoip_db or ""),
    )
    return env


def _run(settings: Settings, args: tuple[str, ...], extra: dict[str, str]) -> Result:
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, {**env_for(settings), **extra}, clear=True),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse errors
            code = exc.code if isinstance(exc.code, int) else 2
    return Result(code, out.getvalue(), err.getvalue())


async def lpmetrics(settings: Settings, *args: str, env: dict[str, str] | None = None) -> Result:
    return await asyncio.to_thread(_run, settings, args, env or {})


def process_env(settings: Settings, data_dir: Path) -> dict[str, str]:
    """The environment of an ``lpmetrics`` process on ``settings``' servers, with its
    own data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LPM_")}
    env.update(
        LPM_DATABASE_URL=str(settings.database_url),
        LPM_REDIS_URL=str(settings.redis_url),
        LPM_REDIS_PREFIX=settings.redis_prefix,
        LPM_SECRET=str(settings.secret),
        LPM_DATA_DIR=str(data_dir),
    )
    return env


async def cli_process(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``python -m api.cli *args``. Asynchronously: a
    server under test may run in this process's event loop."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
