"""API tokens: created for registered orchestrators only, stored hashed, verified by
scope, revoked by id or secret, with ``last_used_at`` written at most once a minute."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from api.core.services import Services
from auth.tokens import (
    PREFIX,
    TokenError,
    create_token,
    hash_secret,
    list_tokens,
    revoke_token,
    verify_token,
)

ADDR = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20


@pytest.fixture
async def registered(services: Services) -> None:
    for address in (ADDR, OTHER):
        await services.db.execute("INSERT INTO orchestrators (address) VALUES ($1)", address)


async def test_create_shows_the_secret_once_and_stores_its_hash(
    services: Services, registered
) -> None:
    record, secret = await create_token(
        services.db, ADDR.upper().replace("0X", "0x"), " prom ", ["ingest"]
    )
    assert secret.startswith(PREFIX) and len(secret) == len(PREFIX) + 43
    assert (record.orchestrator, record.name, record.scopes) == (ADDR, "prom", ("ingest",))
    row = await services.db.fetchrow(
        "SELECT token_hash, api_tokens::text AS everything FROM api_tokens"
    )
    assert row["token_hash"] == hashlib.sha256(secret.encode()).digest() == hash_secret(secret)
    assert secret not in row["everything"] and secret[len(PREFIX) :] not in row["everything"]
    _, another = await create_token(services.db, ADDR, "prom", ["ingest"])
    assert another != secret


@pytest.mark.parametrize(
    ("orchestrator", "name", "scopes", "message"),
    [
        ("0x" + "ef" * 20, "n", ["ingest"], "not a registered orchestrator"),
        ("0x123", "n", ["ingest"], "not an Ethereum address"),
        (ADDR, "", ["ingest"], "1 to 100 characters"),
        (ADDR, "x" * 101, ["ingest"], "1 to 100 characters"),
        (ADDR, "n", [], "scopes"),
        (ADDR, "n", ["ingest", "admin"], "scopes"),
    ],
)
async def test_create_refuses_bad_input(
    services: Services, registered, orchestrator: str, name: str, scopes: list[str], message: str
) -> None:
    with pytest.raises(TokenError, match=message):
        await create_token(services.db, orchestrator, name, scopes)
    assert await services.db.fetchval("SELECT count(*) FROM api_tokens") == 0


async def test_verify_by_scope(services: Services, registered) -> None:
    record, secret = await create_token(services.db, ADDR, "both", ["read", "ingest"])
    _, read_only = await create_token(services.db, ADDR, "read", ["read"])
    assert (await verify_token(services, secret, "ingest")).id == record.id
    assert (await verify_token(services, secret, "read")).id == record.id
    assert await verify_token(services, read_only, "ingest") is None
    assert await verify_token(services, read_only, "read") is not None
    for junk in ("", "lpm_", PREFIX + "A" * 43, secret + "x", secret.upper()):
        assert await verify_token(services, junk, "read") is None


async def test_last_used_is_written_at_most_once_a_minute(services: Services, registered) -> None:
    record, secret = await create_token(services.db, ADDR, "prom", ["ingest"])
    assert record.last_used_at is None
    await verify_token(services, secret, "ingest")
    first = await services.db.fetchval("SELECT last_used_at FROM api_tokens")
    assert first is not None
    old = datetime(2020, 1, 1, tzinfo=UTC)
    await services.db.execute("UPDATE api_tokens SET last_used_at = $1", old)
    await verify_token(services, secret, "ingest")
    assert await services.db.fetchval("SELECT last_used_at FROM api_tokens") == old
    # The minute is over (its Redis key expired): the next use is written again.
    await services.redis.delete(services.key("token-used", str(record.id)))
    await verify_token(services, secret, "ingest")
    assert await services.db.fetchval("SELECT last_used_at FROM api_tokens") > old


async def test_revoke_by_id_or_secret_and_only_own_tokens(services: Services, registered) -> None:
    by_id, _ = await create_token(services.db, ADDR, "a", ["ingest"])
    _, secret = await create_token(services.db, ADDR, "b", ["ingest"])
    assert not await revoke_token(services.db, by_id.id, orchestrator=OTHER)
    assert await revoke_token(services.db, by_id.id, orchestrator=ADDR)
    assert not await revoke_token(services.db, by_id.id)  # already revoked
    assert await revoke_token(services.db, secret)
    assert await verify_token(services, secret, "ingest") is None
    assert not await revoke_token(services.db, 999_999)
    with pytest.raises(TokenError):
        await revoke_token(services.db, "not-a-token")


async def test_list_tokens_newest_first(services: Services, registered) -> None:
    first, _ = await create_token(services.db, ADDR, "first", ["read"])
    second, _ = await create_token(services.db, ADDR, "second", ["ingest"])
    await create_token(services.db, OTHER, "theirs", ["read"])
    await revoke_token(services.db, first.id)
    assert [t.name for t in await list_tokens(services.db, ADDR)] == ["second"]
    listed = await list_tokens(services.db, ADDR, include_revoked=True)
    assert [t.name for t in listed] == ["second", "first"]
    assert listed[1].revoked_at is not None and listed[0].id == second.id
