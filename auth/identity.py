"""Who is calling: the identity every request is served as.

Resolvers and the response cache ask ``identify`` once per request; everything the
caller may see (precision, own nodes, tokens) follows from the ``Identity``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.requests import HTTPConnection

from api.services import Services

RoleName = Literal["ANONYMOUS", "ORCHESTRATOR"]


@dataclass(frozen=True, slots=True)
class Identity:
    role: RoleName
    address: str | None = None
    # How the caller proved who they are.
    via: Literal["anonymous", "session", "token"] = "anonymous"
    token_id: int | None = None
    # Set when a signed-in orchestrator is served the anonymous view (reciprocity).
    downgraded: str | None = None

    @property
    def precise(self) -> bool:
        """True when the caller gets exact figures."""
        return self.role == "ORCHESTRATOR"


ANONYMOUS = Identity("ANONYMOUS")


async def identify(connection: HTTPConnection, services: Services) -> Identity:
    """The identity of an HTTP request or WebSocket connection."""
    return ANONYMOUS
