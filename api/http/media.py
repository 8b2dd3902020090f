"""GraphQL over HTTP's two media types, and what each promises.

``application/graphql-response+json`` (the GraphQL-over-HTTP spec's own type, which
Apollo Client and graphql-http ask for first) lets the status code say what happened:
a *request error* (the document does not parse or validate, the variables do not
coerce, the operation is not found) is ``400`` with no ``data`` key, since nothing
ran; a response that ran is ``200``, even with field errors (``data`` then holds what
could be computed).

``application/json`` is kept, unchanged, for legacy clients: every GraphQL answer is
``200`` and ``data`` is always present. It is what clients get that send no
``Accept``, ``*/*``, or prefer it."""

from __future__ import annotations

from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
CONTENT_TYPE = GRAPHQL_RESPONSE_JSON + "; charset=utf-8"
_JSON_RANGES = ("application/json", "application/*", "*/*")


def wants_graphql_response(accept: str | None) -> bool:
    """True when ``accept`` asks for graphql-response+json at least as much as for
    application/json (RFC 9110 quality values; no header means legacy JSON)."""
    if not accept:
        return False
    preferred = plain = 0.0
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        if media == GRAPHQL_RESPONSE_JSON:
            preferred = max(preferred, quality)
        elif media in _JSON_RANGES:
            plain = max(plain, quality)
    return preferred > 0 and preferred >= plain


def request_error_status(result: ExecutionResult) -> int | None:
    """The status of a response in which nothing ran (None: it ran): 400, or the 5xx
    its errors' codes call for (the stores are down, or a fault)."""
    if not is_request_error(result):
        return None
    codes = {(error.extensions or {}).get("code") for error in result.errors or ()}
    if "SERVICE_UNAVAILABLE" in codes:
        return 503
    if "INTERNAL_SERVER_ERROR" in codes:
        return 500
    return 400


def is_request_error(result: ExecutionResult) -> bool:
    """True when nothing ran: parsing or validation failed (strawberry's
    ``PreExecutionError``), or graphql-core stopped before execution (variables that
    do not coerce, an unknown operation name), which leaves errors without a path."""
    if isinstance(result, PreExecutionError):
        return True
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )
