"""When a request may use the session cookie: the cross-site request forgery defence.

The cookie is ``SameSite=None`` by default (the explorer and the API are usually on
different sites), so browsers attach it to requests that other sites trigger. What a
browser cannot forge is the ``Origin`` header, which it sends on every cross-origin
fetch, every POST and every WebSocket handshake. So the cookie counts only when:

- ``Origin`` is one of ``LPM_CORS_ORIGINS``, or this service's own origin (the
  GraphiQL page we serve). Any other ``Origin`` is refused with FORBIDDEN, so a
  misconfigured client hears why instead of silently getting the public view;
- there is no ``Origin`` and the request is a GET or a WebSocket handshake: a
  same-origin GET, a navigation, or a non-browser client. Mutations never run over
  GET, and browsers always send ``Origin`` with WebSocket handshakes. A navigation
  from another site (``Sec-Fetch-Site: cross-site``/``same-site``) is served
  anonymously instead;
- a POST without ``Origin`` is refused: no current browser sends one, and a script
  should use ``Authorization: Bearer``.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import HTTPConnection
from strawberry.http.websocket_origin import is_same_origin, normalize_origin

from api.core.errors import Forbidden

_SAFE_METHODS = frozenset({"GET", "HEAD"})


def origin_allowed(origin: str, host: str | None, allowed_origins: Iterable[str]) -> bool:
    """True for an allow-listed origin or this service's own (``"*"`` never counts)."""
    normalized = normalize_origin(origin)
    if normalized is None:  # "null" from sandboxed frames and file:// pages
        return False
    allowed = {normalize_origin(o) for o in allowed_origins if o != "*"}
    return normalized in allowed or is_same_origin(origin, host)


def cookie_usable(connection: HTTPConnection, allowed_origins: Iterable[str]) -> bool:
    """True: the cookie counts. False: ignore it. Raises ``Forbidden``: refuse the request."""
    headers = connection.headers
    origin = headers.get("origin")
    if origin is not None:
        if origin_allowed(origin, headers.get("host"), allowed_origins):
            return True
        raise Forbidden(
            f"the session cookie is not accepted from origin {origin!r}; the API's"
            " operator lists the allowed origins in LPM_CORS_ORIGINS, and scripts"
            " authenticate with 'Authorization: Bearer <token>'"
        )
    if connection.scope["type"] == "websocket":
        return True
    if connection.scope.get("method") in _SAFE_METHODS:
        return headers.get("sec-fetch-site") in (None, "same-origin", "none")
    raise Forbidden(
        "a request carrying the session cookie must have an Origin header; scripts"
        " authenticate with 'Authorization: Bearer <token>'"
    )
