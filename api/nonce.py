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

from api.ratelimit import client_key
from api.services import Services
from auth.errors import RateLimited, SessionsUnavailable
from auth.nonces import issue_nonce

log = logging.getLogger(__name__)

UNAVAILABLE_RETRY_AFTER = 5

# A nonce is single-use: no cache may hand one to two clients (nor keep a refusal).
_NO_STORE = {"Cache-Control": "no-store"}


def _iso(moment: object) -> str:
    return moment.isoformat().replace("+00:00", "Z")  # type: ignore[attr-defined]


def _error(
    message: str, extensions: dict[str, object], status: int, retry_after: int
) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": extensions}]},
        status_code=status,
        headers={**_NO_STORE, "Retry-After": str(retry_after)},
    )


async def nonce_endpoint(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    try:
        challenge = await issue_nonce(services, client_key(services.secret, request))
    except (RateLimited, SessionsUnavailable) as exc:
        return _error(exc.message, exc.extensions, exc.status, exc.retry_after)
    except (OSError, redis.exceptions.RedisError) as exc:
        log.warning("cannot issue a nonce: %s: %s", type(exc).__name__, exc)
        return _error(
            "nonces cannot be issued right now (storage unavailable); try again",
            {"code": "SERVICE_UNAVAILABLE"},
            503,
            UNAVAILABLE_RETRY_AFTER,
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
