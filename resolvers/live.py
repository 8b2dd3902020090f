"""Subscription ``networkUpdates``: the network's figures, pushed on every rollup tick.

Ticks reach every server process through Redis pub/sub (``api.stats.ticks``), so a
subscriber is served by whichever process holds its WebSocket."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.stats.ticks import ticks_for
from api.stats.windows import Window as WindowValue
from auth.precision import Rule
from resolvers.access import set_tick, view_of
from resolvers.context import Context
from resolvers.precision import coarsen, precise_resolver
from resolvers.stats import network_stats
from resolvers.stats_types import NetworkStats, Window

# Without published ticks the tick follows the clock; look at it this often.
CLOCK_SECONDS = 15.0


@strawberry.type
class LiveSubscription:
    @precise_resolver(
        Rule.OBJECT,
        is_subscription=True,
        description=(
            "The network's figures now, then again each time the rollups advance to a"
            " new minute (graphql-transport-ws)."
        ),
    )
    async def network_updates(
        self,
        info: strawberry.Info[Context, None],
        window: Window = WindowValue.LAST_HOUR,  # type: ignore[valid-type]
    ) -> AsyncGenerator[NetworkStats, None]:
        context = info.context
        ticks = ticks_for(context.services)
        sent = None
        while True:
            tick = ticks.now()
            if tick != sent:
                set_tick(context, tick)
                yield coarsen(await network_stats(context, window), view_of(context))
                sent = tick
            await ticks.wait_next(CLOCK_SECONDS)
