"""Real Ethereum keys signing real EIP-4361 messages, and GraphQL calls over HTTP, for
the auth and account tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import siwe
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

DOMAIN = "explorer.test"
URI = "https://explorer.test"
CHAIN_ID = 42161
ORIGIN = "https://explorer.test"


def new_account() -> LocalAccount:
    return Account.create()


def iso(moment: datetime) -> str:
    return siwe.ISO8601Datetime.from_datetime(moment)


def siwe_message(
    address: str,
    nonce: str,
    *,
    domain: str = DOMAIN,
    uri: str = URI,
    chain_id: int = CHAIN_ID,
    issued_at: datetime | None = None,
    expiration_time: datetime | None = None,
    not_before: datetime | None = None,
    statement: str | None = "Sign in to Livepeer community metrics.",
) -> str:
    return siwe.SiweMessage(
        domain=domain,
        address=address,
        uri=uri,
        version="1",
        chain_id=chain_id,
        issued_at=iso(issued_at or datetime.now(UTC)),
        nonce=nonce,
        statement=statement,
        expiration_time=iso(expiration_time) if expiration_time else None,
        not_before=iso(not_before) if not_before else None,
    ).prepare_message()


def sign(account: LocalAccount, message: str) -> str:
    return account.sign_message(encode_defunct(text=message)).signature.to_0x_hex()


async def register(db: asyncpg.Pool, address: str, *, stake: int = 1000) -> None:
    """Put ``address`` in the registry, as a registry sync would."""
    await db.execute(
        "INSERT INTO orchestrators (address, active, total_stake) VALUES ($1, true, $2)"
        " ON CONFLICT DO NOTHING",
        address.lower(),
        stake,
    )


async def graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    return await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
    )


NONCE = "mutation { requestNonce { nonce domain uri chainId issuedAt expirationTime } }"
SIGN_IN = """
mutation($message: String!, $signature: String!) {
  signIn(message: $message, signature: $signature) {
    token expiresAt viewer { role address authenticatedBy precise downgraded }
  }
}
"""


async def request_nonce(client: httpx.AsyncClient) -> str:
    response = await graphql(client, NONCE)
    return response.json()["data"]["requestNonce"]["nonce"]


async def sign_in(client: httpx.AsyncClient, account: LocalAccount) -> httpx.Response:
    """requestNonce, sign, signIn: the whole flow a script goes through."""
    nonce = await request_nonce(client)
    message = siwe_message(account.address, nonce)
    return await graphql(client, SIGN_IN, {"message": message, "signature": sign(account, message)})


async def session_token(client: httpx.AsyncClient, account: LocalAccount) -> str:
    response = await sign_in(client, account)
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["signIn"]["token"]


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
