"""GraphQL types of cross-source convergence (DESIGN §9, docs/convergence.md).

Per node, for whoever may see its per-node figures (``orchestrator(address)``): how its
byte counters compare with the bytes its reported work implies. On network and region
statistics, for everyone: how many nodes with byte counters converge, diverge or are
still calibrating, counted like any public figure.
"""

from __future__ import annotations

from datetime import datetime

import h3
import strawberry

from api.convergence.evaluate import NodeVerdict, region_counts
from api.convergence.model import Source, Status, Verdict
from api.core.services import Services
from api.disclosure.precision import Rule
from api.geo.grouping import NETWORK, Grouping, Level, grouping
from api.stats.snapshot import snapshot
from api.stats.windows import Window
from resolvers.fields import precise_field

ConvergenceStatus = strawberry.enum(
    Status,
    name="ConvergenceStatus",
    description=(
        "How a node's byte counters compare with the bytes its reported work implies,"
        " over the window: CONVERGED within LPM_CONVERGENCE_TOLERANCE (default 2 %),"
        " DIVERGED beyond it, CALIBRATING while its model has less than"
        " LPM_CONVERGENCE_CALIBRATION_HOURS (default 6) of history with work,"
        " NO_SOURCE without byte counters in the window."
    ),
)

ByteSource = strawberry.enum(
    Source,
    name="ByteSource",
    description=(
        "Where measured bytes come from: PORT, per-port counters exported through"
        " node_exporter's textfile collector (only the orchestrator's traffic, preferred);"
        " NIC, node_exporter's network interface counters (all devices but lo)."
    ),
)

_STATUS = "The verdict for the window (see ConvergenceStatus)."
_ERROR = (
    "|measured - expected| / measured, in percent; null while calibrating, without a"
    " source, or when nothing was measured."
)
_MEASURED = (
    "Bytes received plus transmitted by the source's counters in the window (only"
    " minutes with both counters count); null without a source."
)
_EXPECTED = (
    "Bytes the node's model expects for the work it reported in those minutes; null"
    " until calibrated."
)
_SOURCE = "The counters the verdict rests on; null without any."
_CALIBRATED = "When the model used was fitted (refitted daily on the trailing week)."


@strawberry.type(description="One node's byte counters against its reported work.")
class NodeConvergence:
    status: ConvergenceStatus = precise_field(Rule.EXACT, description=_STATUS)  # type: ignore[valid-type]
    error_percent: float | None = precise_field(Rule.EXACT, description=_ERROR)
    measured_bytes: float | None = precise_field(Rule.EXACT, description=_MEASURED)
    expected_bytes: float | None = precise_field(Rule.EXACT, description=_EXPECTED)
    source: ByteSource | None = precise_field(Rule.EXACT, description=_SOURCE)  # type: ignore[valid-type]
    calibrated_at: datetime | None = precise_field(Rule.EXACT, description=_CALIBRATED)

    @classmethod
    def of(cls, judged: NodeVerdict | None) -> NodeConvergence:
        v = judged.verdict if judged is not None else Verdict(Status.NO_SOURCE)
        return cls(
            status=v.status,
            error_percent=None if v.error is None else v.error * 100,
            measured_bytes=v.measured_bytes,
            expected_bytes=v.expected_bytes,
            source=v.source,
            calibrated_at=v.calibrated_at,
        )


_COUNT = (
    "Nodes with byte counters in the window whose verdict is {}; the public view rounds"
    " it up like every count."
)


@strawberry.type(
    description=(
        "Nodes with byte counters (NIC or per-port) in the window, by convergence verdict;"
        " nodes without are not counted."
    )
)
class ConvergenceCounts:
    converged: int = precise_field(Rule.COUNT_BIN, description=_COUNT.format("CONVERGED"))
    diverged: int = precise_field(Rule.COUNT_BIN, description=_COUNT.format("DIVERGED"))
    calibrating: int = precise_field(Rule.COUNT_BIN, description=_COUNT.format("CALIBRATING"))


def stats_grouping(level: Level | None, code: str) -> Grouping:
    """The grouping a stats object describes: the network, or its region's level."""
    if level is None:
        return NETWORK
    if level is Level.CELL:
        return grouping(level, h3.get_resolution(code))
    return grouping(level)


async def convergence_counts(
    services: Services, tick: datetime, window: Window, by: Grouping, code: str
) -> ConvergenceCounts:
    places = (await snapshot(services, tick)).places
    found = (await region_counts(services, tick, window, by, places)).get(code, {})
    return ConvergenceCounts(
        converged=found.get(Status.CONVERGED, 0),
        diverged=found.get(Status.DIVERGED, 0),
        calibrating=found.get(Status.CALIBRATING, 0),
    )
