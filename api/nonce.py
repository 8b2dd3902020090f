"""``GET /auth/nonce``: the REST twin of the ``requestNonce`` mutation, for wallets'
SIWE client libraries that expect to fetch a nonce with a plain GET."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from api.services import Services
from auth.nonces import issue_nonce


def _iso(moment: object) -> str:
    return moment.isoformat().replace("+00:00", "Z")  # type: ignore[attr-defined]


async def nonce_endpoint(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    challenge = await issue_nonce(services)
    return JSONResponse(
        {
            "nonce": challenge.nonce,
            "domain": challenge.domain,
            "uri": challenge.uri,
            "chainId": challenge.chain_id,
            "issuedAt": _iso(challenge.issued_at),
            "expirationTime": _iso(challenge.expiration_time),
        },
        # A nonce is single-use: no cache may hand one to two clients.
        headers={"Cache-Control": "no-store"},
    )
