"""Root field ``transparency``: what the service collects and keeps, the public
view's rules, and how many use it (``api.stats.transparency``). Public and exact: it
describes the service, not the network."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.disclosure.precision import PUBLIC_MIN_STEP, SIGNIFICANT_DIGITS, Rule
from api.stats.ticks import ticks_for
from api.stats.transparency import LABEL_HANDLING, collected, counts, version
from resolvers.context import Context
from resolvers.fields import precise_field, precise_resolver
from resolvers.view import tick_of


@strawberry.type(description="A metric family ingest keeps; everything else is dropped.")
class CollectedMetric:
    name: str = precise_field(Rule.EXACT, description="The family as exported.")
    series: list[str] = precise_field(Rule.EXACT, description="Series names kept.")
    kind: str = precise_field(Rule.EXACT, description="gauge or counter.")
    required: bool = precise_field(
        Rule.EXACT,
        description="Kept from every reporting orchestrator; optional ones only when shared.",
    )
    purpose: str = precise_field(Rule.EXACT, description="What it is used for.")


@strawberry.type(description="How long data is kept.")
class Retention:
    raw_samples_days: int = precise_field(
        Rule.EXACT, description="Raw samples, dropped by daily partition after this many days."
    )
    rollups: str = precise_field(Rule.EXACT, description="Per-minute and hourly rollups.")
    chain_data: str = precise_field(Rule.EXACT, description="Winning tickets synced from chain.")
    sessions_seconds: int = precise_field(Rule.EXACT, description="Sign-in sessions expire after.")


@strawberry.type(description="The rules of the public (anonymous) view.")
class PublicViewRules:
    min_orchestrators: int = precise_field(
        Rule.EXACT,
        description="k: figures from 1 to k-1 orchestrators (or computable from published"
        " ones) are withheld.",
    )
    count_bin: int = precise_field(
        Rule.EXACT, description="Counts are rounded up to a multiple of this."
    )
    significant_digits: int = precise_field(
        Rule.EXACT, description="Rates and volumes keep this many significant digits."
    )
    max_cell_resolution: int = precise_field(
        Rule.EXACT, description="Finest H3 resolution; positions are such a cell's centre."
    )
    min_series_step_seconds: int = precise_field(
        Rule.EXACT, description="Series points are at least this far apart."
    )
    per_orchestrator_figures: bool = precise_field(
        Rule.EXACT, description="Whether the public view has any per-orchestrator figure."
    )


@strawberry.type(
    description="What the service collects, keeps and shows, and how many use it (public)."
)
class Transparency:
    collected: list[CollectedMetric] = precise_field(
        Rule.OBJECT, description="The allowlist: metrics kept, required and optional."
    )
    label_handling: list[str] = precise_field(
        Rule.EXACT, description="What happens to labels at the door."
    )
    never_stored: list[str] = precise_field(Rule.EXACT, description="What is never stored.")
    retention: Retention = precise_field(Rule.OBJECT, description="How long data is kept.")
    public_view: PublicViewRules = precise_field(
        Rule.OBJECT, description="The rules of the anonymous view."
    )
    signed_in_orchestrators: int = precise_field(
        Rule.EXACT, description="Distinct orchestrators with a sign-in session now."
    )
    active_sessions: int = precise_field(Rule.EXACT, description="Sign-in sessions now.")
    active_tokens: int = precise_field(
        Rule.EXACT, description="API tokens (ingest and read) not revoked."
    )
    deletions_served: int = precise_field(
        Rule.EXACT, description="deleteMyData requests carried out, ever."
    )
    source_code: str | None = precise_field(
        Rule.EXACT,
        description="Where the running code is published (LPM_SOURCE_URL); null when unset.",
    )
    version: str | None = precise_field(Rule.EXACT, description="The running version.")
    documentation: str = precise_field(
        Rule.EXACT, description="Where the service's documents are, in its source tree."
    )
    as_of: datetime = precise_field(Rule.EXACT, description="The tick the counts are of.")


@strawberry.type
class TransparencyQuery:
    @precise_resolver(
        Rule.OBJECT, description="What the service collects, keeps and shows; public."
    )
    async def transparency(self, info: strawberry.Info[Context, None]) -> Transparency:
        services, tick = info.context.services, tick_of(info.context)
        settings = services.settings
        c = await ticks_for(services).memo(tick, "transparency", lambda t: counts(services))
        return Transparency(
            collected=[
                CollectedMetric(
                    name=m.family,
                    series=list(m.series),
                    kind=m.kind,
                    required=m.required,
                    purpose=m.purpose,
                )
                for m in collected()
            ],
            label_handling=list(LABEL_HANDLING),
            never_stored=["broadcaster addresses", "client IP addresses", "manifest IDs"],
            retention=Retention(
                raw_samples_days=settings.raw_retention_days,
                rollups="kept; removed with the orchestrator's data by deleteMyData",
                chain_data="public on-chain events, 35 days synced back and kept",
                sessions_seconds=settings.session_ttl_seconds,
            ),
            public_view=PublicViewRules(
                min_orchestrators=settings.public_min_orchestrators,
                count_bin=settings.public_count_bin,
                significant_digits=SIGNIFICANT_DIGITS,
                max_cell_resolution=settings.public_h3_res,
                min_series_step_seconds=PUBLIC_MIN_STEP,
                per_orchestrator_figures=False,
            ),
            signed_in_orchestrators=c.signed_in_orchestrators,
            active_sessions=c.active_sessions,
            active_tokens=c.active_tokens,
            deletions_served=c.deletions_served,
            source_code=settings.source_url,
            version=version(),
            documentation="docs/transparency.md",
            as_of=tick,
        )
