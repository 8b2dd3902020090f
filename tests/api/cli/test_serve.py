"""``lpmetrics serve`` as an operator runs it: a real process, real signals."""

import concurrent.futures
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.services import RUN_ID, _with_database, free_port

ADDR = "0x" + "c" * 40


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LPM_")}
    env.update(values)
    return env


def lpmetrics(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Served:
    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(self.port), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited: {self.proc.stdout.read()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("serve was not ready in time")

    def stop(self, sig: int = signal.SIGTERM) -> str:
        self.proc.send_signal(sig)
        out, _ = self.proc.communicate(timeout=60)
        return out


@pytest.fixture
def served() -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for s in started:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


def graphql_typename(url: str) -> dict:
    return httpx.post(url + "/graphql", json={"query": "{ __typename }"}, timeout=10).json()


def test_embedded_serve_keeps_data_across_restarts(tmp_path: Path, served: list[Served]) -> None:
    env = clean_env(LPM_DATA_DIR=str(tmp_path / "data"))
    first = Served(env)
    served.append(first)
    first.wait_ready()
    assert graphql_typename(first.url) == {"data": {"__typename": "Query"}}

    registry = tmp_path / "registry.json"
    registry.write_text(
        json.dumps(
            {
                "data": {
                    "transcoders": [
                        {
                            "id": ADDR,
                            "serviceURI": None,
                            "active": True,
                            "status": "Registered",
                            "totalStake": "5",
                        }
                    ]
                }
            }
        )
    )
    result = lpmetrics("registry", "import", str(registry), env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "imported 1 orchestrators (1 new, 0 updated)\n"

    out = first.stop(signal.SIGINT)
    assert first.proc.returncode == 0, out
    assert "Traceback" not in out
    # The embedded PostgreSQL went down with it.
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists()

    second = Served(env)
    served.append(second)
    second.wait_ready()
    again = lpmetrics("registry", "import", str(registry), env=env)
    assert again.stdout == "imported 1 orchestrators (0 new, 1 updated)\n"
    second.stop()
    assert second.proc.returncode == 0


@pytest.fixture
def scratch_database(server_urls: tuple[str, str]) -> Iterator[str]:
    import asyncio

    admin_url, _ = server_urls
    name = f"lpm_test_{RUN_ID}_serve"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(admin_url, name)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def shared_env(
    database_url: str, server_urls: tuple[str, str], tmp_path: Path, name: str
) -> dict[str, str]:
    """The environment of servers on the scratch database and a Redis prefix of ``name``."""
    return clean_env(
        LPM_DATABASE_URL=database_url,
        LPM_REDIS_URL=server_urls[1],
        LPM_REDIS_PREFIX=f"lpmtest:{RUN_ID}:{name}:",
        LPM_DATA_DIR=str(tmp_path),
    )


def test_two_processes_start_on_one_fresh_database(
    scratch_database: str, server_urls: tuple[str, str], tmp_path: Path, served: list[Served]
) -> None:
    env = shared_env(scratch_database, server_urls, tmp_path, "serve")
    a, b = Served(env), Served(env)
    served.extend([a, b])
    a.wait_ready()
    b.wait_ready()
    assert graphql_typename(a.url) == graphql_typename(b.url) == {"data": {"__typename": "Query"}}
    for s in (a, b):
        out = s.stop()
        assert "Traceback" not in out


def _server_processes(pid: int) -> list[int]:
    """The children of ``pid`` that are uvicorn's spawned server processes."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    found = []
    for child in map(int, children):
        with contextlib.suppress(FileNotFoundError):
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
    return found


def _environ(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(p.decode().split("=", 1) for p in pairs if b"=" in p)


def _graphql_requests(url: str) -> float:
    text = httpx.get(url + "/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "lpm_http_requests_total" and sample.labels["route"] == "/graphql"
    )


def test_workers_run_several_server_processes_on_one_port(
    scratch_database: str, server_urls: tuple[str, str], tmp_path: Path, served: list[Served]
) -> None:
    env = shared_env(scratch_database, server_urls, tmp_path, "workers")
    server = Served(env, "--workers", "2")
    served.append(server)
    server.wait_ready()
    children = _server_processes(server.proc.pid)
    assert len(children) == 2
    # Enough concurrent connections that both processes serve some (checked below).
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: graphql_typename(server.url), range(64)))
    assert answers == [{"data": {"__typename": "Query"}}] * 64
    metrics = Path(_environ(children[0])["PROMETHEUS_MULTIPROC_DIR"])
    writers = {int(f.stem.rsplit("_", 1)[1]) for f in metrics.glob("counter_*.db")}
    assert writers == set(children)
    # Whichever process answers /metrics counts the requests of both.
    for _ in range(4):
        assert _graphql_requests(server.url) == 64
    out = server.stop()
    assert server.proc.returncode == 0, out
    assert "Traceback" not in out


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["serve"],
            {"LPM_CHAIN_ID": "abc"},
            "lpmetrics: LPM_CHAIN_ID: Input should be a valid integer",
        ),
        (["serve", "--port", "0"], {}, "lpmetrics: --port must be between 1 and 65535, not 0"),
        (["serve", "--workers", "0"], {}, "lpmetrics: --workers must be between 1 and 64, not 0"),
        (
            ["serve", "--demo", "--workers", "2"],
            {},
            "lpmetrics: --demo runs in one process; leave out --workers",
        ),
        (
            ["registry", "import", "/nonexistent.json"],
            {},
            "lpmetrics: registry unchanged: cannot read /nonexistent.json: No such file",
        ),
        (
            ["registry", "sync", "--subgraph-url", "http://127.0.0.1:9/"],
            {"LPM_DATABASE_URL": "", "LPM_REDIS_URL": ""},
            "lpmetrics: registry unchanged: the subgraph at http://127.0.0.1:9/ could not",
        ),
    ],
)
def test_bad_input_gives_one_line_and_status_2(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = lpmetrics(*args, env=clean_env(LPM_DATA_DIR=str(tmp_path), **env))
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(message)
    assert "Traceback" not in result.stderr
