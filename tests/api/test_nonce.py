from datetime import datetime, timedelta

import httpx

from api.services import Services
from auth.nonces import nonce_pending


async def test_get_auth_nonce_issues_a_usable_nonce(
    client: httpx.AsyncClient, services: Services
) -> None:
    response = await client.get("/auth/nonce")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"nonce", "domain", "uri", "chainId", "issuedAt", "expirationTime"}
    assert body["domain"] == "explorer.test" and body["uri"] == "https://explorer.test"
    assert body["chainId"] == 42161
    issued = datetime.fromisoformat(body["issuedAt"])
    assert datetime.fromisoformat(body["expirationTime"]) - issued == timedelta(minutes=10)
    assert await nonce_pending(services, body["nonce"])
    second = (await client.get("/auth/nonce")).json()["nonce"]
    assert second != body["nonce"]


async def test_post_is_not_allowed(client: httpx.AsyncClient) -> None:
    assert (await client.post("/auth/nonce")).status_code == 405


async def test_allowed_origins_may_fetch_it(client: httpx.AsyncClient) -> None:
    response = await client.get("/auth/nonce", headers={"Origin": "https://explorer.test"})
    assert response.headers["access-control-allow-origin"] == "https://explorer.test"
