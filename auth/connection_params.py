"""Credentials a WebSocket client sends in graphql-transport-ws's ``connection_init``.

A browser cannot set ``Authorization`` on a WebSocket handshake, and when the page and
the API are on different sites it does not send the session cookie either (third-party
cookies). graphql-ws's convention, ``connectionParams`` in Apollo's ``GraphQLWsLink``,
puts the credential in the first message instead::

    {"type": "connection_init", "payload": {"authorization": "Bearer <token>"}}

The key is case-insensitive and the value is checked exactly as the header would be
(session token or API token with READ; ``auth.identity``), after the origin check the
cookie gets (``LPM_CORS_ORIGINS`` or the service's own origin). It replaces whatever
the handshake carried. A refused credential raises ``AuthError``: the connection is
then closed with 4403 Forbidden, which graphql-ws clients do not retry."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import HTTPConnection

from api.core.errors import Forbidden, Unauthenticated
from api.core.services import Services
from auth.csrf import origin_allowed
from auth.identity import _SCOPE_KEY, Identity, _from_bearer


def authorization_param(payload: Mapping[str, object]) -> str | None:
    """The ``authorization`` value of a ``connection_init`` payload (any letter case)."""
    for key, value in payload.items():
        if isinstance(key, str) and key.lower() == "authorization":
            if not isinstance(value, str):
                raise Unauthenticated("connection_init's authorization must be 'Bearer <token>'")
            return value
    return None


async def identify_connection_params(
    payload: Mapping[str, object], connection: HTTPConnection, services: Services
) -> Identity | None:
    """The identity the payload's credential proves, kept for the connection; None
    when the payload carries none (the handshake's identity stays)."""
    authorization = authorization_param(payload)
    if authorization is None:
        return None
    origin = connection.headers.get("origin")
    if origin is not None and not origin_allowed(
        origin, connection.headers.get("host"), services.settings.cors_origins
    ):
        raise Forbidden(
            f"credentials are not accepted from origin {origin!r}; the API's operator"
            " lists the allowed origins in LPM_CORS_ORIGINS"
        )
    identity = await _from_bearer(authorization, services)
    connection.scope[_SCOPE_KEY] = identity
    return identity
