"""Who is asking: ``viewer``, with the signed-in orchestrator's own nodes, API tokens
and sharing settings."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from api.account import nodes as account_nodes
from api.disclosure.precision import Rule
from api.ingest import sharing as sharing_store
from api.ingest import status_report as ingest_status
from auth import tokens
from auth.identity import Identity, identify
from resolvers.context import Context
from resolvers.fields import precise_field, precise_resolver
from resolvers.ingest_status import IngestStatus


def caller_field(description: str) -> Any:
    """A field about the caller's own account: it describes the caller, so there is
    nothing to coarsen (and only its owner ever gets a non-empty one)."""
    return precise_field(Rule.CALLER, description=description)


@strawberry.enum(description="What a caller is allowed to see.")
class Role(Enum):
    ANONYMOUS = "ANONYMOUS"
    ORCHESTRATOR = "ORCHESTRATOR"


@strawberry.enum(description="How the caller proved who they are.")
class AuthMethod(Enum):
    SESSION = "session"
    TOKEN = "token"


@strawberry.enum(description="What an API token may be used for.")
class TokenScope(Enum):
    READ = strawberry.enum_value("read", description="Query the API as its orchestrator.")
    INGEST = strawberry.enum_value(
        "ingest", description="Push metrics with Prometheus remote_write."
    )


@strawberry.enum(description="Where a node's location comes from.")
class LocationSource(Enum):
    DECLARED = strawberry.enum_value("declared", description="Set by its orchestrator.")
    GEOIP = strawberry.enum_value(
        "geoip", description="Looked up from the orchestrator's serviceURI host."
    )


@strawberry.type(description="Where one of your nodes is, as precisely as it is known.")
class NodeLocation:
    source: LocationSource = caller_field("Declared by you, or looked up with GeoIP.")
    latitude: float = caller_field("Exact: it is your own node.")
    longitude: float = caller_field("Exact: it is your own node.")
    country: str | None = caller_field("ISO 3166-1 alpha-2 code.")
    continent: str | None = caller_field("Continent code (EU, NA, SA, AS, AF, OC).")
    livepeer_region: str | None = caller_field("The nearest Livepeer region code, e.g. FRA.")


@strawberry.type(description="One of the signed-in orchestrator's nodes.")
class OwnNode:
    id: strawberry.ID = caller_field("The node's id, for setNodeLocation.")
    name: str = caller_field("The node_id label go-livepeer exports.")
    node_type: str = caller_field("The node_type label (orch, trcr, ...).")
    location: NodeLocation | None = caller_field(
        "The declared location, else the GeoIP one; null when unknown."
    )
    first_seen: datetime = caller_field("When it first delivered data.")
    last_seen: datetime | None = caller_field("When it last delivered data.")

    @classmethod
    def of(cls, node: account_nodes.OwnNode) -> OwnNode:
        place = node.location
        location = None
        if place is not None and place.latitude is not None and place.longitude is not None:
            location = NodeLocation(
                source=LocationSource(place.source),
                latitude=place.latitude,
                longitude=place.longitude,
                country=place.country,
                continent=place.continent,
                livepeer_region=place.livepeer_region,
            )
        return cls(
            id=strawberry.ID(str(node.id)),
            name=node.name,
            node_type=node.node_type,
            location=location,
            first_seen=node.first_seen,
            last_seen=node.last_seen,
        )


@strawberry.type(description="An API token; its secret is shown only once, at creation.")
class ApiToken:
    id: strawberry.ID = caller_field("For revokeApiToken and `lpmetrics token revoke`.")
    name: str = caller_field("What you called it.")
    scopes: list[TokenScope] = caller_field("What it may be used for.")
    created_at: datetime = caller_field("When it was created.")
    last_used_at: datetime | None = caller_field("When it was last used (to the minute).")
    revoked_at: datetime | None = caller_field("When it was revoked; null while it works.")

    @classmethod
    def of(cls, token: tokens.TokenRecord) -> ApiToken:
        return cls(
            id=strawberry.ID(str(token.id)),
            name=token.name,
            scopes=[TokenScope(s) for s in token.scopes],
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )


@strawberry.type(description="What an orchestrator shares beyond the required metrics.")
class SharingSettings:
    optional_metrics: list[str] = caller_field("Optional metrics accepted from your nodes.")
    share_per_node: bool = caller_field(
        "Whether other signed-in orchestrators see your per-node figures."
    )
    available_optional_metrics: list[str] = caller_field(
        "Every optional metric an orchestrator may choose to share."
    )
    updated_at: datetime | None = caller_field(
        "When they were last changed; null while they are the defaults."
    )

    @classmethod
    def of(cls, sharing: sharing_store.Sharing) -> SharingSettings:
        return cls(
            optional_metrics=list(sharing.optional_metrics),
            share_per_node=sharing.share_per_node,
            available_optional_metrics=sorted(sharing_store.OPTIONAL_METRICS),
            updated_at=sharing.updated_at,
        )


@strawberry.type(description="The caller of this request.")
class Viewer:
    role: Role = caller_field("ANONYMOUS, or ORCHESTRATOR once signed in.")
    address: str | None = caller_field(
        "The signed-in orchestrator's address (lower-case), null when anonymous."
    )
    authenticated_by: AuthMethod | None = caller_field(
        "SESSION (signIn) or TOKEN (a READ API token); null when anonymous."
    )
    precise: bool = caller_field("Whether statistics are served exact (false: the public view).")
    downgraded: str | None = caller_field(
        "Why a signed-in orchestrator is served the public view, if it is."
    )
    identity: strawberry.Private[Identity]

    @precise_resolver(Rule.CALLER, description="Your nodes; empty when anonymous.")
    async def nodes(self, info: strawberry.Info[Context, None]) -> list[OwnNode]:
        if self.identity.address is None:
            return []
        found = await account_nodes.own_nodes(info.context.services.db, self.identity.address)
        return [OwnNode.of(n) for n in found]

    @precise_resolver(
        Rule.CALLER, description="Your API tokens, revoked ones included; empty when anonymous."
    )
    async def tokens(self, info: strawberry.Info[Context, None]) -> list[ApiToken]:
        if self.identity.address is None:
            return []
        found = await tokens.list_tokens(
            info.context.services.db, self.identity.address, include_revoked=True
        )
        return [ApiToken.of(t) for t in found]

    @precise_resolver(Rule.CALLER, description="Your sharing settings; null when anonymous.")
    async def sharing(self, info: strawberry.Info[Context, None]) -> SharingSettings | None:
        if self.identity.address is None:
            return None
        found = await sharing_store.get_sharing(info.context.services.db, self.identity.address)
        return SharingSettings.of(found)

    @precise_resolver(
        Rule.CALLER,
        description="Your ingest status over the last hour: what arrived, what was left out"
        " and why; null when anonymous.",
    )
    async def ingest(self, info: strawberry.Info[Context, None]) -> IngestStatus | None:
        if self.identity.address is None:
            return None
        found = await ingest_status.read(info.context.services, self.identity.address)
        return IngestStatus.of(found)

    @classmethod
    def of(cls, identity: Identity) -> Viewer:
        return cls(
            role=Role(identity.role),
            address=identity.address,
            authenticated_by=AuthMethod(identity.via) if identity.via != "anonymous" else None,
            precise=identity.precise,
            downgraded=identity.downgraded,
            identity=identity,
        )


async def current_identity(info: strawberry.Info[Context, None]) -> Identity:
    """The identity of this request (settled by the /graphql gate, so this is cached)."""
    return await identify(info.context.request, info.context.services)


@strawberry.type
class ViewerQuery:
    @precise_resolver(Rule.CALLER, description="Who the API takes the caller to be.")
    async def viewer(self, info: strawberry.Info[Context, None]) -> Viewer:
        return Viewer.of(await current_identity(info))
