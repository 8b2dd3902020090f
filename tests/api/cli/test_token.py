"""``lpmetrics token create|revoke`` as an operator runs them."""

from __future__ import annotations

import re

import pytest
import yaml

from api.core.services import Services
from api.core.settings import Settings
from auth.tokens import hash_secret, verify_token
from tests.support.cli_env import lpmetrics

ADDR = "0x" + "ab" * 20
TOKEN = re.compile(r"^lpm_[A-Za-z0-9_-]{43}$")


@pytest.fixture
async def registered(services: Services) -> None:
    await services.db.execute("INSERT INTO orchestrators (address) VALUES ($1)", ADDR)
    await services.db.execute(
        "INSERT INTO sharing (orchestrator, optional_metrics) VALUES ($1, $2)",
        ADDR,
        ["livepeer_value_redeemed"],
    )


async def test_ingest_token_comes_with_its_remote_write_block(
    services: Services, settings: Settings, registered
) -> None:
    result = await lpmetrics(
        settings,
        "token",
        "create",
        "--orchestrator",
        ADDR.upper().replace("0X", "0x"),
        "--name",
        "fra prometheus",
        "--scope",
        "ingest",
        "--url",
        "https://metrics.example",
    )
    assert result.returncode == 0, result.stderr
    token, block = result.stdout.split("\n", 1)
    assert TOKEN.match(token)
    [entry] = yaml.safe_load(block)["remote_write"]
    assert entry["url"] == "https://metrics.example/api/v1/write"
    assert entry["authorization"]["credentials"] == token
    # The block keeps what this orchestrator shares.
    assert "livepeer_value_redeemed" in entry["write_relabel_configs"][0]["regex"]
    assert "node_network_receive_bytes_total" not in entry["write_relabel_configs"][0]["regex"]
    record = await verify_token(services, token, "ingest")
    assert (record.orchestrator, record.name) == (ADDR, "fra prometheus")


async def test_read_token_is_printed_alone(
    services: Services, settings: Settings, registered
) -> None:
    result = await lpmetrics(
        settings, "token", "create", "--orchestrator", ADDR, "--name", "script", "--scope", "read"
    )
    assert result.returncode == 0, result.stderr
    assert TOKEN.match(result.stdout.rstrip("\n")) and result.stdout.count("\n") == 1
    assert await verify_token(services, result.stdout.strip(), "read") is not None
    assert await verify_token(services, result.stdout.strip(), "ingest") is None


async def test_revoke_by_id_and_by_token(
    services: Services, settings: Settings, registered
) -> None:
    created = []
    for _ in range(2):
        result = await lpmetrics(
            settings, "token", "create", "--orchestrator", ADDR, "--name", "n", "--scope", "read"
        )
        created.append(result.stdout.strip())
    first_id = await services.db.fetchval(
        "SELECT id FROM api_tokens WHERE token_hash = $1", hash_secret(created[0])
    )
    by_id = await lpmetrics(settings, "token", "revoke", str(first_id))
    assert (by_id.returncode, by_id.stdout) == (0, f"revoked token {first_id}\n")
    by_secret = await lpmetrics(settings, "token", "revoke", created[1])
    assert (by_secret.returncode, by_secret.stdout) == (0, "revoked the given token\n")
    for token in created:
        assert await verify_token(services, token, "read") is None
    again = await lpmetrics(settings, "token", "revoke", str(first_id))
    assert again.returncode == 2
    assert again.stderr.strip() == f"lpmetrics: token {first_id} is unknown or already revoked"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["create", "--orchestrator", "0x" + "9" * 40, "--name", "n", "--scope", "ingest"],
            "is not a registered orchestrator",
        ),
        (
            ["create", "--orchestrator", "abc", "--name", "n", "--scope", "read"],
            "not an Ethereum address",
        ),
        (
            [
                "create",
                "--orchestrator",
                ADDR,
                "--name",
                "n",
                "--scope",
                "ingest",
                "--url",
                "ftp://x",
            ],
            "--url must start with http:// or https://",
        ),
        (["revoke", "whatever"], "expected a token id (a number) or a token (lpm_...)"),
    ],
)
async def test_bad_input_gives_one_line_and_status_2(
    services: Services, settings: Settings, registered, args: list[str], message: str
) -> None:
    result = await lpmetrics(settings, "token", *args)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()[-1:]
    assert line.startswith("lpmetrics: ") and message in line
    assert "Traceback" not in result.stderr
    assert await services.db.fetchval("SELECT count(*) FROM api_tokens") == 0
