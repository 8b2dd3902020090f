"""Everything the statistics API adds to the schema, for ``resolvers.schema``: the
query fields, the subscription, and the schema extensions that protect the server."""

from __future__ import annotations

import strawberry

from resolvers.limits import EXTENSIONS
from resolvers.live import LiveSubscription
from resolvers.orchestrators import OrchestratorQuery
from resolvers.origins import OriginsQuery
from resolvers.policy import AccessQuery
from resolvers.series import SeriesQuery
from resolvers.stats import StatsQuery
from resolvers.transparency import TransparencyQuery


@strawberry.type
class StatisticsQuery(
    StatsQuery, SeriesQuery, OriginsQuery, OrchestratorQuery, AccessQuery, TransparencyQuery
):
    pass


@strawberry.type
class Subscription(LiveSubscription):
    pass


__all__ = ["EXTENSIONS", "StatisticsQuery", "Subscription"]
