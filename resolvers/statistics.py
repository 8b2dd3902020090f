"""Everything the statistics API adds to the schema, for ``resolvers.schema``: the
query fields, the subscription, and the schema extensions that protect the server."""

from __future__ import annotations

import strawberry

from resolvers.coverage import CoverageQuery
from resolvers.limits import EXTENSIONS
from resolvers.live import LiveSubscription
from resolvers.network import StatsQuery
from resolvers.orchestrators import OrchestratorQuery
from resolvers.origins import OriginsQuery
from resolvers.policy import AccessQuery
from resolvers.series import SeriesQuery
from resolvers.transparency import TransparencyQuery


@strawberry.type
class StatisticsQuery(
    StatsQuery,
    SeriesQuery,
    OriginsQuery,
    CoverageQuery,
    OrchestratorQuery,
    AccessQuery,
    TransparencyQuery,
):
    pass


@strawberry.type
class Subscription(LiveSubscription):
    pass


__all__ = ["EXTENSIONS", "StatisticsQuery", "Subscription"]
