"""``GET /auth/nonce``: the REST twin of the ``requestNonce`` mutation, for wallets'
SIWE client libraries that expect to fetch a nonce with a plain GET.

Refusals are JSON with the error object GraphQL callers get, e.g. over the limit::

    HTTP/1.1 429 Too Many Requests
    Retry-After: 12

    {"errors": [{"message": "too many sign-in nonces requested ...; retry in 12 s",
                 "extensions": {"code": "RATE_LIMITED", "retryAfter": 12}}]}

and 503 (``SERVICE_UNAVAILABLE``, ``Retry-After``) while Redis cannot be reached."""

from __future__ import annotations

import logging

import redis.exceptions
from starlette.requests import Request
from starlette.responses import JSONResponse

from api.core.errors import RateLimited, ServiceUnavailable, SessionsUnavailable
from api.core.ratelimit import client_key
from api.core.services import Services
from api.http.errors import error_response
from auth.nonces import issue_nonce

log = logging.getLogger(__name__)

UNAVAILABLE_RETRY_AFTER = 5

# A nonce is single-use: no cache may hand one to two clients (nor keep a refusal).
_NO_STORE = {"Cache-Control": "no-store"}


def _iso(moment: object) -> str:
    return moment.isoformat().replace("+00:00", "Z")  # type: ignore[attr-defined]


async def nonce_endpoint(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    try:
        challenge = await issue_nonce(services, client_key(services.secret, request))
    except (RateLimited, SessionsUnavailable) as exc:
        return error_response(exc)
    except (OSError, redis.exceptions.RedisError) as exc:
        log.warning("cannot issue a nonce: %s: %s", type(exc).__name__, exc)
        return error_response(
            ServiceUnavailable(
                "nonces cannot be issued right now (storage unavailable); try again",
                retry_after=UNAVAILABLE_RETRY_AFTER,
            )
        )
    return JSONResponse(
        {
            "nonce": challenge.nonce,
            "domain": challenge.domain,
            "uri": challenge.uri,
            "chainId": challenge.chain_id,
            "issuedAt": _iso(challenge.issued_at),
            "expirationTime": _iso(challenge.expiration_time),
        },
        headers=_NO_STORE,
    )
