"""The CLI answers at once: each subcommand imports only what it needs. Each case runs
``lpmetrics`` in a fresh interpreter and checks what ended up in ``sys.modules``."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from api.cli import demo_load, token
from api.core.services import Services
from api.core.settings import Settings
from tests.support.cli_env import env_for
from tests.support.services import free_port

ROOT = Path(__file__).resolve().parents[3]
ADDR = "0x" + "cd" * 20

HEAVY = (
    "strawberry",
    "web3",
    "siwe",
    "eth_account",
    "eth_keys",
    "numpy",
    "scipy",
    "uvicorn",
    "starlette",
    "api.demo",
    "api.http.app",
    "api.stats",
    "resolvers",
)
"""Never for a light command: the GraphQL schema, web3 (through SIWE), the demo..."""
SERVICES = ("asyncpg", "redis", "pydantic", "geoip2", "h3", "maxminddb", "httpx", "yaml")
"""Not for parsing arguments and --help either."""

SCRIPT = """
import json, sys
from api.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print("\\nRESULT " + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _run(args: tuple[str, ...], env: dict[str, str]) -> tuple[int, set[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    last = done.stdout.rstrip().rsplit("\n", 1)[-1]
    assert last.startswith("RESULT "), done.stdout + done.stderr
    result = json.loads(last.removeprefix("RESULT "))
    return result["code"], set(result["modules"]), done.stdout + done.stderr


async def imported(settings: Settings, *args: str) -> tuple[int, set[str], str]:
    return await asyncio.to_thread(_run, args, env_for(settings))


def loaded(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(
        m for m in modules if m in prefixes or m.startswith(tuple(p + "." for p in prefixes))
    )


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("token", "create", "--help"),
        ("status", "--help"),
        ("serve", "--help"),
        ("demo-load", "--help"),
        ("registry", "sync", "--help"),
        ("sharing", "set", "--help"),
    ],
    ids=lambda a: " ".join(a),
)
async def test_help_imports_nothing_heavy(settings: Settings, args: tuple[str, ...]) -> None:
    code, modules, output = await imported(settings, *args)
    assert code == 0, output
    assert "usage: lpmetrics" in output
    assert loaded(modules, HEAVY + SERVICES) == []


async def test_token_create_needs_settings_database_and_tokens(
    services: Services, settings: Settings
) -> None:
    await services.db.execute("INSERT INTO orchestrators (address) VALUES ($1)", ADDR)
    args = ("token", "create", "--orchestrator", ADDR, "--name", "n", "--scope", "ingest")
    code, modules, output = await imported(settings, *args)
    assert code == 0, output
    assert {"asyncpg", "pydantic", "auth.tokens", "api.core.settings"} <= modules
    assert loaded(modules, HEAVY) == []
    # No Redis, no locating (GeoIP2 is opened only to check LPM_GEOIP_DB, set here).
    assert loaded(modules, ("redis", "h3", "api.geo.locate", "api.core.services")) == []


@pytest.mark.parametrize(
    "args",
    [
        ("status", "--token", "lpm_x", "--url", "http://127.0.0.1:{port}"),
        ("sharing", "show", "--orchestrator", ADDR),
        ("token", "revoke", "12345"),
        ("migrate",),
    ],
    ids=lambda a: " ".join(a[:2]),
)
async def test_light_commands_import_nothing_heavy(
    services: Services, settings: Settings, args: tuple[str, ...]
) -> None:
    args = tuple(a.format(port=free_port()) for a in args)
    _, modules, output = await imported(settings, *args)
    assert "Traceback" not in output, output
    assert loaded(modules, HEAVY) == []


def test_constants_repeated_for_help_agree() -> None:
    from api.demo.network import DEFAULT_ORCHESTRATORS, DEFAULT_SEED
    from auth.tokens import SCOPES

    assert token.SCOPES == SCOPES
    assert (demo_load.DEFAULT_ORCHESTRATORS, demo_load.DEFAULT_SEED) == (
        DEFAULT_ORCHESTRATORS,
        DEFAULT_SEED,
    )
