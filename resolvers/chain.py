"""GraphQL types of the chain-backed figures (DESIGN §9): estimates on the
statistics, verification of an orchestrator's reports, verification counts.

``attach_*`` add them to statistics objects before the root field coarsens them, so
estimates are coarsened and withheld by the same rules as every figure."""

from __future__ import annotations

import logging
from datetime import datetime

import strawberry

from api.chain.estimates import Interval, RegionEstimate
from api.chain.figures import estimates, verification_counts, verifications
from api.chain.verification import Check, Status
from api.chain.verification import Verification as VerificationData
from api.core.services import Services
from api.disclosure.precision import Rule
from api.geo.grouping import Grouping
from api.stats.windows import Window
from resolvers.fields import precise_field

log = logging.getLogger(__name__)

VerificationStatus = strawberry.enum(
    Status,
    name="VerificationStatus",
    description=(
        "How an orchestrator's reports compare with the chain: CONSISTENT (every check"
        " possible passed), INCONSISTENT (a check failed beyond its tolerance),"
        " INSUFFICIENT_DATA (too few winning tickets on chain, or no chain data)."
    ),
)


@strawberry.type(description="A figure with a 90 % interval (see Estimate.method).")
class EstimatedFigure:
    value: float | None = precise_field(Rule.SIGNIFICANT, description="The estimate.")
    low: float | None = precise_field(Rule.SIGNIFICANT, description="Lower end (5th percentile).")
    high: float | None = precise_field(Rule.SIGNIFICANT, description="Upper end (95th percentile).")
    withheld: strawberry.Private[bool] = False

    def withheld_field(self, name: str) -> bool:
        return self.withheld


def _figure(i: Interval | None, withheld: bool) -> EstimatedFigure | None:
    if i is None:
        return None
    return EstimatedFigure(value=i.value, low=i.low, high=i.high, withheld=withheld)


@strawberry.type(
    description=(
        "The whole region's figures (the network's, on network): what the reporting"
        " orchestrators reported plus what the non-reporting known orchestrators are"
        " inferred to have done from their on-chain fees, in the units of the reported"
        " figure and over the same window. Null figures come with a `reason`."
        " docs/statistics.md explains the method and when it misleads."
    )
)
class Estimate:
    avg_streams: EstimatedFigure | None = precise_field(
        Rule.OBJECT, description="Average streams of the whole region."
    )
    pixels_per_second: EstimatedFigure | None = precise_field(
        Rule.OBJECT, description="Pixels per second of the whole region."
    )
    transcoded_minutes: EstimatedFigure | None = precise_field(
        Rule.OBJECT, description="Minutes of source video transcoded by the whole region."
    )
    method: str | None = precise_field(Rule.EXACT, description="How the figures were inferred.")
    reason: str | None = precise_field(
        Rule.EXACT, description="Why the figures are null; null when they are given."
    )
    basis_orchestrators: int = precise_field(
        Rule.EXACT,
        description=(
            "Reporting orchestrators (network-wide) whose figures per ETH of fees are the"
            " basis: reports consistent with the chain and on-chain fees in 30 days."
        ),
    )
    inferred_orchestrators: int = precise_field(
        Rule.EXACT,
        description="Non-reporting orchestrators here with on-chain fees, inferred.",
    )

    @classmethod
    def of(cls, e: RegionEstimate, withheld: bool) -> Estimate:
        return cls(
            avg_streams=_figure(e.avg_streams, withheld),
            pixels_per_second=_figure(e.pixels_per_second, withheld),
            transcoded_minutes=_figure(e.transcoded_minutes, withheld),
            method=e.method,
            reason=e.reason,
            basis_orchestrators=e.basis,
            inferred_orchestrators=e.inferred,
        )


@strawberry.type(description="Orchestrators by verification status (DESIGN §9).")
class VerificationCounts:
    consistent: int = precise_field(Rule.EXACT, description="Reports consistent with the chain.")
    inconsistent: int = precise_field(
        Rule.EXACT, description="Reports that disagree with the chain beyond tolerance."
    )
    insufficient_data: int = precise_field(
        Rule.EXACT, description="Too few winning tickets on chain to check."
    )


@strawberry.type(description="One check of reported ticket figures against the chain.")
class VerificationCheck:
    reported_eth: float = precise_field(
        Rule.HIDDEN, orchestrator=Rule.OWN, description="What the orchestrator reported, in ETH."
    )
    on_chain_eth: float = precise_field(
        Rule.HIDDEN,
        orchestrator=Rule.OWN,
        description="Face value of the winning tickets redeemed to it on chain, in ETH.",
    )
    winning_tickets: int = precise_field(
        Rule.HIDDEN, orchestrator=Rule.OWN, description="Winning tickets redeemed on chain."
    )
    relative_difference: float | None = precise_field(
        Rule.HIDDEN,
        orchestrator=Rule.OWN,
        description="|reported - on chain| / on chain; null when both are zero.",
    )
    tolerance: float = precise_field(
        Rule.HIDDEN, orchestrator=Rule.OWN, description="The largest relative difference allowed."
    )
    status: VerificationStatus = precise_field(  # type: ignore[valid-type]
        Rule.HIDDEN, orchestrator=Rule.OWN, description="This check's outcome."
    )

    @classmethod
    def of(cls, c: Check | None) -> VerificationCheck | None:
        if c is None:
            return None
        return cls(
            reported_eth=c.reported_eth,
            on_chain_eth=c.on_chain_eth,
            winning_tickets=c.winning_tickets,
            relative_difference=c.relative_difference,
            tolerance=c.tolerance,
            status=c.status,
        )


@strawberry.type(
    description=(
        "An orchestrator's reports checked against winning tickets redeemed on chain:"
        " livepeer_value_redeemed against the face value redeemed to its address (2 %),"
        " livepeer_ticket_value_recv (expected value) against that face value (3/√n for n"
        " winning tickets). Other orchestrators see only the status."
    )
)
class Verification:
    status: VerificationStatus = precise_field(  # type: ignore[valid-type]
        Rule.HIDDEN, description="The outcome of the checks."
    )
    checked_from: datetime | None = precise_field(
        Rule.HIDDEN, orchestrator=Rule.OWN, description="Start of the period checked."
    )
    checked_to: datetime | None = precise_field(
        Rule.HIDDEN,
        orchestrator=Rule.OWN,
        description="End of the period checked (allowing for the redemption lag).",
    )
    value_redeemed: VerificationCheck | None = precise_field(
        Rule.HIDDEN,
        orchestrator=Rule.OWN,
        description="livepeer_value_redeemed against the chain; null when not checked.",
    )
    expected_value: VerificationCheck | None = precise_field(
        Rule.HIDDEN,
        orchestrator=Rule.OWN,
        description="livepeer_ticket_value_recv against the chain; null when not checked.",
    )
    reason: str | None = precise_field(
        Rule.HIDDEN, orchestrator=Rule.OWN, description="Why the data is insufficient."
    )


NO_REPORTS = "no reports in the last 30 days"


async def verification_of(
    services: Services, tick: datetime, address: str, own: bool
) -> Verification:
    v: VerificationData | None = (await verifications(services, tick)).get(address)
    status = v.status if v is not None else Status.INSUFFICIENT_DATA
    if not own:
        return Verification(
            status=status,
            checked_from=None,
            checked_to=None,
            value_redeemed=None,
            expected_value=None,
            reason=None,
        )
    if v is None:
        return Verification(
            status=status,
            checked_from=None,
            checked_to=None,
            value_redeemed=None,
            expected_value=None,
            reason=NO_REPORTS,
        )
    return Verification(
        status=v.status,
        checked_from=v.checked_from,
        checked_to=v.checked_to,
        value_redeemed=VerificationCheck.of(v.redeemed),
        expected_value=VerificationCheck.of(v.expected),
        reason=v.reason,
    )


async def counts(services: Services, tick: datetime) -> VerificationCounts:
    c = await verification_counts(services, tick)
    return VerificationCounts(
        consistent=c[Status.CONSISTENT],
        inconsistent=c[Status.INCONSISTENT],
        insufficient_data=c[Status.INSUFFICIENT_DATA],
    )


_FAILED = "estimate unavailable: the chain figures could not be computed (see the server log)"


async def attach(
    services: Services, tick: datetime, window: Window, by: Grouping, stats: list
) -> None:
    """Set ``estimate`` and ``coverage.fee_share`` on statistics objects of ``by``;
    never fails the request (a failure becomes the reason)."""
    try:
        by_code = await estimates(services, tick, window, by)
        missing = RegionEstimate(reason="no reporting or known orchestrators here")
    except Exception:
        log.exception("chain estimates failed")
        by_code, missing = {}, RegionEstimate(reason=_FAILED)
    for s in stats:
        e = by_code.get(getattr(s, "code", "")) or missing
        withheld = "avg_streams" in s.withheld
        s.estimate = Estimate.of(e, withheld)
        s.coverage.fee_share = e.fee_share
    if by.level is None:
        try:
            c = await counts(services, tick)
        except Exception:
            log.exception("verification counts failed")
            c = None
        for s in stats:
            s.verification = c


__all__ = ["Estimate", "EstimatedFigure", "Verification", "VerificationCounts", "attach"]
