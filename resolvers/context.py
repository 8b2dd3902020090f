"""Per-request GraphQL context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from api.core.services import Services


@dataclass
class Context:
    services: Services
    request: Request | WebSocket
    response: Response | None
    # Filled lazily by auth on first use and kept for the rest of the request.
    cache: dict[str, Any] = field(default_factory=dict)
