"""What the current request is served as: its ``View`` (precision) and its tick, both
settled once per request and kept on the context."""

from __future__ import annotations

from datetime import datetime

from api.disclosure.precision import View, view_for
from api.stats.ticks import ticks_for
from auth.identity import ANONYMOUS, Identity, identify
from resolvers.context import Context

_IDENTITY = "lpm.identity"
_VIEW = "lpm.view"
_TICK = "lpm.tick"


async def prepare(context: Context, *, tick: datetime | None = None) -> None:
    """Settle identity, view and tick for a request (the GraphQL app calls this)."""
    identity = await identify(context.request, context.services)
    context.cache[_IDENTITY] = identity
    context.cache[_VIEW] = view_for(identity, context.services.settings)
    if tick is not None:
        context.cache[_TICK] = tick


def identity_of(context: Context) -> Identity:
    identity = context.cache.get(_IDENTITY)
    return identity if isinstance(identity, Identity) else ANONYMOUS


def view_of(context: Context) -> View:
    """The caller's view; the public one if the request was never prepared."""
    view = context.cache.get(_VIEW)
    if isinstance(view, View):
        return view
    view = context.cache[_VIEW] = view_for(ANONYMOUS, context.services.settings)
    return view


def tick_of(context: Context) -> datetime:
    """The tick this request answers for (the same for all its fields)."""
    tick = context.cache.get(_TICK)
    if tick is None:
        tick = context.cache[_TICK] = ticks_for(context.services).now()
    return tick


def set_tick(context: Context, tick: datetime) -> None:
    """Subscriptions answer for a new tick on every event."""
    context.cache[_TICK] = tick
