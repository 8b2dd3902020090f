"""Who is asking: ``viewer``."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="What a caller is allowed to see.")
class Role(Enum):
    ANONYMOUS = "ANONYMOUS"
    ORCHESTRATOR = "ORCHESTRATOR"


@strawberry.type(description="The caller of this request.")
class Viewer:
    role: Role
    address: str | None = strawberry.field(
        description="The signed-in orchestrator's address (lower-case), null when anonymous."
    )


@strawberry.type
class ViewerQuery:
    @strawberry.field(description="Who the API takes the caller to be.")
    async def viewer(self, info: strawberry.Info) -> Viewer:
        return Viewer(role=Role.ANONYMOUS, address=None)
