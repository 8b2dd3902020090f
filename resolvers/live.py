"""Subscription ``networkUpdates``: the network's figures, pushed on every rollup tick.

Ticks reach every server process through Redis pub/sub (``api.stats.ticks``), so a
subscriber is served by whichever process holds its WebSocket.

A signed-in subscription follows the credential its connection was opened with
(``auth.watch``): once the session ends (``signOut``, expiry) or the API token is
revoked, on whichever process, the subscription ends with an ``UNAUTHENTICATED`` error
instead of pushing anything more. Anonymous subscriptions have nothing to follow."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.disclosure.precision import Rule
from api.stats.ticks import ticks_for
from api.stats.windows import Window as WindowValue
from auth.watch import watch
from resolvers.context import Context
from resolvers.fields import coarsen, precise_resolver
from resolvers.network import network_stats
from resolvers.stats_types import NetworkStats, Window
from resolvers.view import identity_of, set_tick, view_of

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
        # Raising ``Unauthenticated`` ends the operation with that error (a ``next``
        # with ``errors`` and ``extensions.code``, then ``complete``) rather than
        # closing the socket: graphql-ws hands a close code to Apollo as a bare close
        # event without the code, and reconnects after 4403, which would resubscribe
        # in silence (a browser's ended cookie counts as anonymous). The error reaches
        # a client as UNAUTHENTICATED does over HTTP; its lazy socket then closes, and
        # the next subscription connects with whatever credential is current.
        async with watch(context.services, identity_of(context)) as credential:
            while True:
                tick = ticks.now()
                if tick != sent:
                    set_tick(context, tick)
                    figures = await network_stats(context, window)
                    await credential.check()  # nothing more once the credential ended
                    yield coarsen(figures, view_of(context))
                    sent = tick
                await credential.wait(ticks.wait_next(CLOCK_SECONDS))
