"""Per-node figures of one orchestrator (who may see them is the resolver's business)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from api.core.services import Services
from api.stats import load
from api.stats.load import Usage
from api.stats.snapshot import snapshot
from api.stats.ticks import ticks_for
from api.stats.windows import Window


@dataclass(slots=True)
class NodeFigures:
    id: int
    name: str
    location: int
    last_minute: datetime | None = None
    current_streams: float | None = None
    capacity: float | None = None
    avg_streams: float = 0.0
    max_streams: float = 0.0
    pixels_per_second: float = 0.0
    transcoded_minutes: float = 0.0
    segments: float = 0.0
    senders: frozenset[bytes] = field(default_factory=frozenset)


async def node_figures(
    services: Services, tick: datetime, orchestrator: str, window: Window
) -> list[NodeFigures]:
    async def produce(t: datetime) -> dict[int, load.NodeUsage]:
        snap = await snapshot(services, t)
        return await load.read(services.db, load.node_usage, snap.plan, orchestrator, t)

    snap = await snapshot(services, tick)
    nodes = await ticks_for(services).memo(tick, ("nodes", orchestrator), produce)
    now = {n.node: n for n in snap.current if n.orchestrator == orchestrator}
    wanted = window.slices
    out = []
    for node_id, n in sorted(nodes.items()):
        usage = Usage()
        peak = 0.0
        senders: set[bytes] = set()
        for s in wanted:
            if s in n.usage:
                usage.add(n.usage[s])
                peak = max(peak, n.peak.get(s, 0.0))
            senders |= n.senders.get(s, frozenset())
        current = now.get(node_id)
        minutes = window.minutes
        out.append(
            NodeFigures(
                id=node_id,
                name=n.name,
                location=current.location if current else n.location,
                last_minute=n.last_minute,
                current_streams=current.sessions if current else None,
                capacity=current.capacity if current else None,
                avg_streams=usage.sessions / minutes,
                max_streams=peak,
                pixels_per_second=usage.mil_pixels * 1e6 / (minutes * 60),
                transcoded_minutes=usage.source_seconds / 60,
                segments=usage.segments,
                senders=frozenset(senders),
            )
        )
    return out
