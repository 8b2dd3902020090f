"""Judging every node with byte counters over a window, once per tick and process.

One scan of the window's rollups serves the per-node verdicts of ``orchestrator`` and
the public counts of ``network`` and ``regions``. Only minutes with a source's counters
count, for its bytes and for the work set against them, so a node_exporter that was
down for a while does not look like missing traffic.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from api.convergence.calibrate import COLUMNS, has_source
from api.convergence.model import Calibration, Observed, Source, Status, Verdict, Work, verdict
from api.core.services import Services
from api.geo.grouping import Grouping, Place
from api.stats.figures import code_of
from api.stats.ticks import ticks_for
from api.stats.windows import MINUTE, Window


def _observed_columns() -> str:
    parts = []
    for source in Source:
        p, cond = source.value.lower(), has_source(source, "m.")
        rx, tx = (f"m.{c}" for c in COLUMNS[source])
        parts.append(
            f"count(*) FILTER (WHERE {cond}) AS {p}_minutes,"
            f" coalesce(sum(m.mil_pixels) FILTER (WHERE {cond}), 0) AS {p}_mil_pixels,"
            f" coalesce(sum(m.source_seconds) FILTER (WHERE {cond}), 0) AS {p}_source_seconds,"
            f" coalesce(sum({rx}) FILTER (WHERE {cond}), 0) AS {p}_rx,"
            f" coalesce(sum({tx}) FILTER (WHERE {cond}), 0) AS {p}_tx"
        )
    return ",\n       ".join(parts)


_WINDOW = f"""
SELECT m.node, n.orchestrator,
       coalesce((array_agg(m.location_id ORDER BY m.minute DESC))[1], 0) AS location,
       {_observed_columns()}
FROM node_minutes m JOIN nodes n ON n.id = m.node
WHERE m.minute >= $1 AND m.minute <= $2
  AND (m.port_rx_bytes IS NOT NULL OR m.nic_rx_bytes IS NOT NULL)
GROUP BY m.node, n.orchestrator
"""

_CALIBRATIONS = """
SELECT node, source, calibrated_at, rx_coef, tx_coef FROM convergence_calibrations
WHERE calibrated_at < $1
"""


@dataclass(frozen=True, slots=True)
class NodeVerdict:
    node: int
    orchestrator: str
    location: int
    verdict: Verdict


async def judge_window(
    db: asyncpg.Pool | asyncpg.Connection, tick: datetime, window: Window, tolerance: float
) -> dict[int, NodeVerdict]:
    """Verdicts at ``tick`` over ``window`` of every node with byte counters in it."""
    rows = await db.fetch(_WINDOW, window.start(tick), tick)
    calibrations: dict[int, dict[Source, Calibration]] = {}
    # A calibration made after the tick's minute is not used for it: answers for a
    # tick stay the same whichever process gives them, and whenever.
    for r in await db.fetch(_CALIBRATIONS, tick + MINUTE):
        source = Source(r["source"])
        calibrations.setdefault(r["node"], {})[source] = Calibration(
            source, r["calibrated_at"], tuple(r["rx_coef"]), tuple(r["tx_coef"])
        )
    out = {}
    for r in rows:
        observed = {}
        for source in Source:
            p = source.value.lower()
            if r[f"{p}_minutes"]:
                observed[source] = Observed(
                    Work(r[f"{p}_mil_pixels"], r[f"{p}_source_seconds"], r[f"{p}_minutes"] * 60.0),
                    r[f"{p}_rx"],
                    r[f"{p}_tx"],
                )
        out[r["node"]] = NodeVerdict(
            r["node"],
            r["orchestrator"],
            r["location"],
            verdict(observed, calibrations.get(r["node"], {}), tolerance),
        )
    return out


async def verdicts(services: Services, tick: datetime, window: Window) -> dict[int, NodeVerdict]:
    """``judge_window`` for the deployment, once per (tick, window) in this process."""

    async def produce(t: datetime) -> dict[int, NodeVerdict]:
        return await judge_window(services.db, t, window, services.settings.convergence_tolerance)

    return await ticks_for(services).memo(tick, ("convergence", window), produce)


COUNTED = (Status.CONVERGED, Status.DIVERGED, Status.CALIBRATING)


def counts_by_code(
    judged: dict[int, NodeVerdict], places: dict[int, Place], by: Grouping
) -> dict[str, Counter[Status]]:
    """Nodes with a source, by region code of ``by`` and status (NO_SOURCE left out)."""
    out: dict[str, Counter[Status]] = {}
    for v in judged.values():
        if v.verdict.status in COUNTED and (code := code_of(places, v.location, by)) is not None:
            out.setdefault(code, Counter())[v.verdict.status] += 1
    return out


async def region_counts(
    services: Services, tick: datetime, window: Window, by: Grouping, places: dict[int, Place]
) -> dict[str, Counter[Status]]:
    """``counts_by_code`` once per (tick, window, grouping) in this process."""

    async def produce(t: datetime) -> dict[str, Counter[Status]]:
        return counts_by_code(await verdicts(services, t, window), places, by)

    return await ticks_for(services).memo(tick, ("convergence counts", window, by), produce)
