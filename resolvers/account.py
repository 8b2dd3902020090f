"""Signing in and out, and what a signed-in orchestrator manages: API tokens, node
locations, sharing, erasure. Every refusal carries ``extensions.code``
(UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, or RATE_LIMITED with ``retryAfter``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from api.account import nodes as account_nodes
from api.account.erasure import erase_orchestrator_data
from api.core.errors import BadUserInput, Forbidden, Unauthenticated
from api.core.ratelimit import client_key
from api.disclosure.precision import Rule
from api.geo.locate import declared
from api.ingest import sharing as sharing_store
from auth import tokens
from auth.identity import Identity, orchestrator_identity
from auth.nonces import issue_nonce
from auth.sessions import clear_session_cookie, end_session, session_id, set_session_cookie
from auth.signin import sign_in
from resolvers.context import Context
from resolvers.fields import PrecisionDirective
from resolvers.viewer import (
    ApiToken,
    OwnNode,
    SharingSettings,
    TokenScope,
    Viewer,
    caller_field,
    current_identity,
)

Info = strawberry.Info[Context, None]


def _mutation(*, description: str) -> Any:
    # Mutations answer about the caller's own account: nothing to coarsen.
    directive = PrecisionDirective(anonymous=Rule.CALLER, orchestrator=Rule.CALLER)
    return strawberry.mutation(description=description, directives=[directive])


_MAX_ID = 2**63 - 1


@strawberry.type(description="A fresh single-use nonce and what goes into the message to sign.")
class NoncePayload:
    nonce: str = caller_field("Single use, for the message's Nonce field.")
    domain: str = caller_field("The EIP-4361 domain this service accepts.")
    uri: str = caller_field("The EIP-4361 URI this service accepts.")
    chain_id: int = caller_field("The EIP-4361 chain id this service accepts.")
    issued_at: datetime = caller_field("A suitable Issued At.")
    expiration_time: datetime = caller_field(
        "When the nonce expires; messages must be signed and sent before."
    )


@strawberry.type(description="A signed-in session.")
class SignInPayload:
    token: str = caller_field(
        "The session token, for 'Authorization: Bearer'; browsers also get it"
        " as an HttpOnly cookie."
    )
    expires_at: datetime = caller_field("When the session ends unless you sign out before.")
    viewer: Viewer = caller_field("Who you are signed in as.")


@strawberry.type(description="A new API token.")
class ApiTokenPayload:
    token: str = caller_field("The secret, for 'Authorization: Bearer'. Shown only this once.")
    api_token: ApiToken = caller_field("The token as viewer.tokens lists it.")


@strawberry.type(description="What deleteMyData removed.")
class DeletedData:
    nodes: int = caller_field("Nodes removed, with all their samples and rollups.")
    tokens: int = caller_field("API tokens removed.")


async def _account_owner(info: Info) -> Identity:
    """The caller, who must have signed in with their wallet to change their account.

    A READ API token is refused on purpose: a leaked read-only token must not be able
    to create tokens, move nodes or erase data."""
    identity = await current_identity(info)
    if identity.address is None:
        raise Unauthenticated("sign in first (requestNonce, then signIn)")
    if identity.via != "session":
        raise Forbidden("API tokens are read-only; sign in with your wallet to change your account")
    return identity


def _parse_id(value: str, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadUserInput(f"{what} must be a numeric id, got {value!r}") from None
    if not 0 < number <= _MAX_ID:
        raise BadUserInput(f"{what} {value!r} does not exist")
    return number


@strawberry.type
class AccountMutation:
    @_mutation(
        description="A single-use nonce for a Sign-In with Ethereum message. Limited per"
        " client address and in all: over a limit the error's extensions.code is"
        " RATE_LIMITED and extensions.retryAfter the seconds to wait."
    )
    async def request_nonce(self, info: Info) -> NoncePayload:
        services = info.context.services
        challenge = await issue_nonce(services, client_key(services.secret, info.context.request))
        return NoncePayload(
            nonce=challenge.nonce,
            domain=challenge.domain,
            uri=challenge.uri,
            chain_id=challenge.chain_id,
            issued_at=challenge.issued_at,
            expiration_time=challenge.expiration_time,
        )

    @_mutation(description="Sign in with an EIP-4361 message signed by a registered orchestrator.")
    async def sign_in(self, info: Info, message: str, signature: str) -> SignInPayload:
        services = info.context.services
        session = await sign_in(services, message, signature)
        if info.context.response is not None:
            set_session_cookie(info.context.response, services.settings, session)
        identity = await orchestrator_identity(
            services, session.address, via="session", session=session_id(session.token)
        )
        return SignInPayload(
            token=session.token, expires_at=session.expires_at, viewer=Viewer.of(identity)
        )

    @_mutation(description="End the session this request is made with; false if there was none.")
    async def sign_out(self, info: Info) -> bool:
        services = info.context.services
        identity = await current_identity(info)
        if info.context.response is not None:
            clear_session_cookie(info.context.response, services.settings)
        if identity.via != "session" or identity.session is None:
            return False
        return await end_session(services, identity.session)

    @_mutation(description="Create an API token for scripts or Prometheus.")
    async def create_api_token(
        self, info: Info, name: str, scopes: list[TokenScope]
    ) -> ApiTokenPayload:
        identity = await _account_owner(info)
        if not scopes:
            raise BadUserInput("scopes must name at least one of READ, INGEST")
        try:
            created, secret = await tokens.create_token(
                info.context.services.db, identity.address, name, [s.value for s in scopes]
            )
        except tokens.TokenError as exc:
            raise BadUserInput(str(exc)) from None
        return ApiTokenPayload(token=secret, api_token=ApiToken.of(created))

    @_mutation(description="Revoke one of your API tokens; it stops working at once.")
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> ApiToken:
        identity = await _account_owner(info)
        token_id = _parse_id(id, "token")
        db = info.context.services.db
        if not await tokens.revoke_token(db, token_id, orchestrator=identity.address):
            raise BadUserInput(f"you have no live API token with id {id}")
        mine = await tokens.list_tokens(db, identity.address, include_revoked=True)
        return ApiToken.of(next(t for t in mine if t.id == token_id))

    @_mutation(
        description="Declare where one of your nodes is (it wins over GeoIP);"
        " without latitude and longitude the declared location is removed."
    )
    async def set_node_location(
        self,
        info: Info,
        node: strawberry.ID,
        latitude: float | None = None,
        longitude: float | None = None,
        country: Annotated[
            str | None, strawberry.argument(description="ISO 3166-1 alpha-2 code, e.g. DE.")
        ] = None,
    ) -> OwnNode:
        identity = await _account_owner(info)
        node_id = _parse_id(node, "node")
        if latitude is None and longitude is None:
            if country is not None:
                raise BadUserInput("country needs latitude and longitude")
            location = None
        elif latitude is None or longitude is None:
            raise BadUserInput("give both latitude and longitude, or neither to clear")
        else:
            try:
                location = declared(latitude, longitude, country)
            except ValueError as exc:
                raise BadUserInput(str(exc)) from None
        updated = await account_nodes.declare_location(
            info.context.services.db, identity.address, node_id, location
        )
        if updated is None:
            raise BadUserInput(f"you have no node with id {node}")
        return OwnNode.of(updated)

    @_mutation(
        description="Choose which optional metrics you share and whether other signed-in"
        " orchestrators see your per-node figures; an omitted argument stays as it is."
    )
    async def set_sharing(
        self,
        info: Info,
        optional_metrics: list[str] | None = None,
        share_per_node: bool | None = None,
    ) -> SharingSettings:
        identity = await _account_owner(info)
        try:
            updated = await sharing_store.set_sharing(
                info.context.services.db,
                identity.address,
                optional_metrics=optional_metrics,
                share_per_node=share_per_node,
            )
        except ValueError as exc:
            raise BadUserInput(str(exc)) from None
        return SharingSettings.of(updated)

    @_mutation(
        description="Delete your nodes, their samples, series and rollups, your API tokens"
        " and sharing settings. Registry facts stay. confirm must be your address."
    )
    async def delete_my_data(self, info: Info, confirm: str) -> DeletedData:
        identity = await _account_owner(info)
        if confirm.strip().lower() != identity.address:
            raise BadUserInput("confirm must be your address, to show you mean it")
        erased = await erase_orchestrator_data(info.context.services.db, identity.address)
        return DeletedData(nodes=erased.nodes, tokens=erased.tokens)
