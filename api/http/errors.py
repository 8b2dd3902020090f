"""Refusals (``api.core.errors``) as HTTP responses with the GraphQL error shape, for the
endpoints that answer JSON before or beside GraphQL (``/graphql``'s gate, ``/auth/nonce``)."""

from __future__ import annotations

from starlette.responses import JSONResponse

from api.core.errors import ServiceError, Unauthenticated


def error_response(error: ServiceError) -> JSONResponse:
    """``{"errors": [{"message", "extensions": {"code", ...}}]}`` with the error's status
    and headers; never cached."""
    response = JSONResponse(
        {"errors": [{"message": error.message, "extensions": error.extensions}]},
        status_code=error.status_code,
        headers={"Cache-Control": "no-store", **error.headers},
    )
    if isinstance(error, Unauthenticated):
        response.headers["WWW-Authenticate"] = 'Bearer realm="lpmetrics", error="invalid_token"'
    return response
