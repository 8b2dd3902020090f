"""Root field ``orchestrator``: one orchestrator's figures, node by node.

Never for the public view. A signed-in orchestrator sees its own nodes, and those of
orchestrators that share per-node figures with other orchestrators
(``sharing.share_per_node``)."""

from __future__ import annotations

import re
from datetime import datetime

import strawberry

from api.convergence.evaluate import verdicts
from api.core.errors import BadUserInput
from api.disclosure.precision import Rule
from api.stats.nodes import NodeFigures, node_figures
from api.stats.snapshot import snapshot
from api.stats.windows import Window as WindowValue
from resolvers.chain import Verification, verification_of
from resolvers.context import Context
from resolvers.convergence import NodeConvergence
from resolvers.fields import precise_field, precise_resolver
from resolvers.stats_types import Location, Precision, Window
from resolvers.view import tick_of, view_of

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
# Nodes listed per orchestrator, at most.
MAX_NODES = 1000


@strawberry.type(description="One node's figures (for what they mean, see Stats).")
class NodeStats:
    id: strawberry.ID = precise_field(Rule.EXACT, description="The node's id.")
    name: str = precise_field(Rule.EXACT, description="The node_id label go-livepeer exports.")
    location: Location | None = precise_field(
        Rule.OBJECT, description="Where its latest minute placed it; null when unknown."
    )
    last_seen: datetime | None = precise_field(
        Rule.EXACT, description="Its latest minute with data, up to asOf."
    )
    current_streams: int | None = precise_field(
        Rule.EXACT, description="Latest sessions sample; null when not heard in 5 minutes."
    )
    capacity: int | None = precise_field(
        Rule.EXACT, description="Latest max-sessions sample; null when not heard in 5 minutes."
    )
    avg_streams: float = precise_field(Rule.EXACT, description="Mean sessions over the window.")
    max_streams: float = precise_field(
        Rule.EXACT, description="Highest one-minute mean of sessions in the window."
    )
    pixels_per_second: float = precise_field(Rule.EXACT, description="Over the window.")
    transcoded_minutes: float = precise_field(Rule.EXACT, description="In the window.")
    segments: float = precise_field(Rule.EXACT, description="In the window.")
    broadcasters: int = precise_field(
        Rule.EXACT, description="Distinct broadcasters that paid this node in the window."
    )
    convergence: NodeConvergence | None = precise_field(
        Rule.OBJECT,
        description="Its byte counters against its reported work over the window.",
        default=None,
    )


@strawberry.type(description="One orchestrator's figures and its nodes.")
class OrchestratorStats:
    address: str = precise_field(Rule.EXACT, description="Its address, lower-case.")
    as_of: datetime = precise_field(Rule.EXACT, description="The newest minute included.")
    window: Window = precise_field(Rule.EXACT, description="The window of the figures.")  # type: ignore[valid-type]
    current_streams: int | None = precise_field(Rule.EXACT, description="Summed over its nodes.")
    capacity: int | None = precise_field(Rule.EXACT, description="Summed over its nodes.")
    avg_streams: float | None = precise_field(Rule.EXACT, description="Summed over its nodes.")
    pixels_per_second: float | None = precise_field(
        Rule.EXACT, description="Summed over its nodes."
    )
    transcoded_minutes: float | None = precise_field(
        Rule.EXACT, description="Summed over its nodes."
    )
    segments: float | None = precise_field(Rule.EXACT, description="Summed over its nodes.")
    broadcasters: int | None = precise_field(
        Rule.EXACT, description="Distinct broadcasters that paid any of its nodes."
    )
    nodes: list[NodeStats] = precise_field(
        Rule.OBJECT, description="Its nodes, by id (at most 1,000)."
    )
    precision: Precision = precise_field(Rule.LABEL, description="Always EXACT.")
    verification: Verification | None = precise_field(
        Rule.OBJECT,
        description=(
            "Its reports checked against the chain: in full for the orchestrator itself,"
            " the status only for other orchestrators."
        ),
        default=None,
    )


def _node(f: NodeFigures, places: dict, convergence: NodeConvergence) -> NodeStats:
    place = places.get(f.location)
    return NodeStats(
        id=strawberry.ID(str(f.id)),
        name=f.name,
        location=Location.at(place.latitude, place.longitude) if place else None,
        last_seen=f.last_minute,
        current_streams=None if f.current_streams is None else round(f.current_streams),
        capacity=None if f.capacity is None else round(f.capacity),
        avg_streams=f.avg_streams,
        max_streams=f.max_streams,
        pixels_per_second=f.pixels_per_second,
        transcoded_minutes=f.transcoded_minutes,
        segments=f.segments,
        broadcasters=len(f.senders),
        convergence=convergence,
    )


@strawberry.type
class OrchestratorQuery:
    @precise_resolver(
        Rule.HIDDEN,
        orchestrator=Rule.SHARED,
        description=(
            "One orchestrator's figures, node by node. Null for the public view; a"
            " signed-in orchestrator gets its own, and other orchestrators' where they"
            " share per-node figures (setSharing); otherwise only their address and"
            " verification status, the figures null."
        ),
    )
    async def orchestrator(
        self,
        info: strawberry.Info[Context, None],
        address: str,
        window: Window = WindowValue.LAST_HOUR,  # type: ignore[valid-type]
    ) -> OrchestratorStats | None:
        if not _ADDRESS.match(address.strip()):
            raise BadUserInput("address must be an Ethereum address (0x and 40 hex digits)")
        address = address.strip().lower()
        context = info.context
        view = view_of(context)
        if view.public:
            return None
        if address != view.address:
            shares = await context.services.db.fetchval(
                "SELECT share_per_node FROM sharing WHERE orchestrator = $1", address
            )
            if not shares:
                return _status_only(
                    address,
                    await verification_of(context.services, tick_of(context), address, own=False),
                    tick_of(context),
                    window,
                )
        tick = tick_of(context)
        snap = await snapshot(context.services, tick)
        figures = await node_figures(context.services, tick, address, window)
        judged = await verdicts(context.services, tick, window)
        senders: set[bytes] = set()
        for f in figures:
            senders |= f.senders
        return OrchestratorStats(
            address=address,
            as_of=tick,
            window=window,
            current_streams=round(sum(f.current_streams or 0 for f in figures)),
            capacity=round(sum(f.capacity or 0 for f in figures)),
            avg_streams=sum(f.avg_streams for f in figures),
            pixels_per_second=sum(f.pixels_per_second for f in figures),
            transcoded_minutes=sum(f.transcoded_minutes for f in figures),
            segments=sum(f.segments for f in figures),
            broadcasters=len(senders),
            nodes=[
                _node(f, snap.places, NodeConvergence.of(judged.get(f.id)))
                for f in figures[:MAX_NODES]
            ],
            precision=Precision.EXACT,
            verification=await verification_of(
                context.services, tick, address, own=address == view.address
            ),
        )


def _status_only(
    address: str, verification: Verification, tick: datetime, window: WindowValue
) -> OrchestratorStats:
    """What an orchestrator that does not share per-node figures shows the others:
    its verification status, no figures."""
    return OrchestratorStats(
        address=address,
        as_of=tick,
        window=window,
        current_streams=None,
        capacity=None,
        avg_streams=None,
        pixels_per_second=None,
        transcoded_minutes=None,
        segments=None,
        broadcasters=None,
        nodes=[],
        precision=Precision.EXACT,
        verification=verification,
    )
