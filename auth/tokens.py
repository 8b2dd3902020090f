"""API tokens: long-lived bearer secrets for scripts (``read``) and for an orchestrator's
Prometheus (``ingest``).

A token is shown once, when created; only its SHA-256 is stored. A plain hash is enough
(no salt or slow KDF): the secret is 256 random bits, not something a person chose. The
``lpm_`` prefix lets secret scanners and people recognise a leaked token.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import asyncpg

from auth.revocations import CHANNEL, TOKEN_PREFIX

if TYPE_CHECKING:  # the CLI creates tokens with a database alone
    from api.core.services import Services

log = logging.getLogger(__name__)

Scope = Literal["read", "ingest"]
SCOPES: tuple[Scope, ...] = ("read", "ingest")
PREFIX = "lpm_"
LAST_USED_EVERY_SECONDS = 60
"""``last_used_at`` is written at most this often per token, not on every request."""

_ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
_SECRET = re.compile(r"^lpm_[A-Za-z0-9_-]{43}$")
_COLUMNS = "id, orchestrator, name, scopes, created_at, last_used_at, revoked_at"


class TokenError(ValueError):
    """A token cannot be created or revoked as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: int
    orchestrator: str
    name: str
    scopes: tuple[Scope, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> TokenRecord:
        return cls(
            row["id"],
            row["orchestrator"],
            row["name"],
            tuple(row["scopes"]),
            row["created_at"],
            row["last_used_at"],
            row["revoked_at"],
        )


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def looks_like_token(text: str) -> bool:
    """True when ``text`` has the shape of a token secret (says nothing of validity)."""
    return bool(_SECRET.match(text))


def normalize_address(address: str) -> str:
    """A lower-cased orchestrator address; ``TokenError`` when it is not one."""
    candidate = address.strip().lower()
    if not _ADDRESS.match(candidate):
        raise TokenError(f"{address[:64]!r} is not an Ethereum address (0x and 40 hex digits)")
    return candidate


def check_scopes(scopes: Iterable[str]) -> tuple[Scope, ...]:
    given = {str(s).lower() for s in scopes}
    chosen = tuple(s for s in SCOPES if s in given)
    if given - set(SCOPES) or not chosen:
        raise TokenError(f"token scopes must be among {', '.join(SCOPES)}")
    return chosen


async def create_token(
    conn: asyncpg.Connection | asyncpg.Pool,
    orchestrator: str,
    name: str,
    scopes: Iterable[str],
) -> tuple[TokenRecord, str]:
    """Create a token for a registered orchestrator; return its record and the secret,
    which is not stored and cannot be shown again."""
    address = normalize_address(orchestrator)
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise TokenError("token name must be 1 to 100 characters")
    chosen = check_scopes(scopes)
    secret = PREFIX + secrets.token_urlsafe(32)
    row = await conn.fetchrow(
        f"""
        INSERT INTO api_tokens (orchestrator, name, scopes, token_hash)
        SELECT address, $2, $3, $4 FROM orchestrators WHERE address = $1
        RETURNING {_COLUMNS}
        """,
        address,
        name,
        list(chosen),
        hash_secret(secret),
    )
    if row is None:
        raise TokenError(f"{address} is not a registered orchestrator")
    return TokenRecord.from_row(row), secret


async def verify_token(services: Services, secret: str, scope: Scope) -> TokenRecord | None:
    """The live token ``secret`` is, if it carries ``scope``; else None.

    Database errors propagate (the caller answers "unavailable", not "unauthorized").
    ``last_used_at`` is refreshed at most once a minute per token, tracked in Redis.
    """
    if not looks_like_token(secret):
        return None
    row = await services.db.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM api_tokens
        WHERE token_hash = $1 AND revoked_at IS NULL AND $2 = ANY (scopes)
        """,
        hash_secret(secret),
        scope,
    )
    if row is None:
        return None
    record = TokenRecord.from_row(row)
    await _touch(services, record.id)
    return record


async def _touch(services: Services, token_id: int) -> None:
    try:
        due = await services.redis.set(
            services.key("token-used", str(token_id)), 1, nx=True, ex=LAST_USED_EVERY_SECONDS
        )
    except Exception as exc:  # bookkeeping only: never fail a request for it
        log.debug("cannot throttle last_used_at: %s", type(exc).__name__)
        return
    if due:
        await services.db.execute(
            "UPDATE api_tokens SET last_used_at = now() WHERE id = $1", token_id
        )


async def revoke_token(
    conn: asyncpg.Connection | asyncpg.Pool,
    id_or_secret: int | str,
    orchestrator: str | None = None,
) -> bool:
    """Revoke a token by id or by its secret, optionally only if ``orchestrator`` owns
    it. True when a live token was revoked; False when there was none to revoke."""
    owner = normalize_address(orchestrator) if orchestrator is not None else None
    if isinstance(id_or_secret, int):
        where, key = "id = $1", id_or_secret
    elif looks_like_token(id_or_secret):
        where, key = "token_hash = $1", hash_secret(id_or_secret)
    else:
        raise TokenError("expected a token id (a number) or a token (lpm_...)")
    # The NOTIFY tells every process's open subscriptions (``auth.revocations``); it is
    # delivered when the revocation commits, from whichever process or command ran it.
    revoked = await conn.fetchval(
        f"""
        WITH revoked AS (
            UPDATE api_tokens SET revoked_at = now()
            WHERE {where} AND revoked_at IS NULL AND ($2::text IS NULL OR orchestrator = $2)
            RETURNING id
        )
        SELECT id, pg_notify($3::text, $4::text || id) FROM revoked
        """,
        key,
        owner,
        CHANNEL,
        TOKEN_PREFIX,
    )
    return revoked is not None


async def token_is_live(
    conn: asyncpg.Connection | asyncpg.Pool, token_id: int, scope: Scope
) -> bool:
    """True while token ``token_id`` exists, is not revoked and carries ``scope``."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM api_tokens"
            " WHERE id = $1 AND revoked_at IS NULL AND $2 = ANY (scopes))",
            token_id,
            scope,
        )
    )


async def list_tokens(
    conn: asyncpg.Connection | asyncpg.Pool, orchestrator: str, *, include_revoked: bool = False
) -> list[TokenRecord]:
    """An orchestrator's tokens, newest first (secrets are never available)."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM api_tokens
        WHERE orchestrator = $1 AND ($2 OR revoked_at IS NULL)
        ORDER BY created_at DESC, id DESC
        """,
        normalize_address(orchestrator),
        include_revoked,
    )
    return [TokenRecord.from_row(r) for r in rows]
