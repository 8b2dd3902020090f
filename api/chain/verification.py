"""Each reporting orchestrator's reports checked against the chain (DESIGN §9).

Two checks over the same period, from the orchestrator's first reported minute in the
last 30 days to ``LAG`` before the tick (and no later than the chain data is complete):

* **Redeemed value.** go-livepeer's ``livepeer_value_redeemed`` (gwei) counts the face
  value of the winning tickets the node redeemed: the same events the subgraph lists
  for the orchestrator's address, so the two agree within ``REDEEMED_TOLERANCE`` (2 %).
  Skipped when the orchestrator reports no redemptions (a separate redeemer process,
  not scraped, does that work) or fewer than ``MIN_REDEMPTIONS`` are on chain.
* **Expected value.** ``livepeer_ticket_value_recv`` (gwei) adds the expected value
  (face value * win probability) of every ticket received. Winning is random, so the
  face value won and redeemed matches it only on average: with n winning tickets its
  relative spread is about 1/√n, and the check allows ``K_SIGMA``/√n (needs
  ``MIN_TICKETS`` winning tickets on chain).

A failed check makes the orchestrator INCONSISTENT; a passed one and no failure
CONSISTENT; neither INSUFFICIENT_DATA.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from api.chain.onchain import Db, Redeemed, redeemed_since, sync_state, unavailable_reason

PERIOD = timedelta(days=30)
# Redemptions take a transaction and the subgraph a few blocks to index them.
LAG = timedelta(minutes=30)
REDEEMED_TOLERANCE = 0.02
MIN_REDEMPTIONS = 5
K_SIGMA = 3.0
MIN_TICKETS = 10
GWEI = 1e-9


class Status(Enum):
    CONSISTENT = "CONSISTENT"
    INCONSISTENT = "INCONSISTENT"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


@dataclass(frozen=True, slots=True)
class Check:
    reported_eth: float
    on_chain_eth: float
    winning_tickets: int
    relative_difference: float | None
    tolerance: float
    status: Status


@dataclass(frozen=True, slots=True)
class Verification:
    address: str
    status: Status
    checked_from: datetime | None
    checked_to: datetime | None
    redeemed: Check | None
    expected: Check | None
    reason: str | None


def _relative(reported: float, chain: float) -> float | None:
    if chain > 0:
        return abs(reported - chain) / chain
    return None if reported == 0 else math.inf


def check_redeemed(reported_eth: float, chain: Redeemed) -> Check | None:
    if reported_eth <= 0 or chain.tickets < MIN_REDEMPTIONS:
        return None
    diff = _relative(reported_eth, chain.face_value)
    ok = diff is not None and diff <= REDEEMED_TOLERANCE
    return Check(
        reported_eth,
        chain.face_value,
        chain.tickets,
        diff,
        REDEEMED_TOLERANCE,
        Status.CONSISTENT if ok else Status.INCONSISTENT,
    )


def check_expected(reported_eth: float, chain: Redeemed) -> Check | None:
    if reported_eth <= 0 or chain.tickets < MIN_TICKETS:
        return None
    tolerance = K_SIGMA / math.sqrt(chain.tickets)
    diff = _relative(reported_eth, chain.face_value)
    ok = diff is not None and diff <= tolerance
    return Check(
        reported_eth,
        chain.face_value,
        chain.tickets,
        diff,
        tolerance,
        Status.CONSISTENT if ok else Status.INCONSISTENT,
    )


def verdict(
    address: str, start: datetime, end: datetime, checks: list[Check | None]
) -> Verification:
    redeemed, expected = checks
    done = [c for c in checks if c is not None]
    if any(c.status is Status.INCONSISTENT for c in done):
        status, reason = Status.INCONSISTENT, None
    elif done:
        status, reason = Status.CONSISTENT, None
    else:
        status = Status.INSUFFICIENT_DATA
        reason = (
            f"too few winning tickets on chain to check (at least {MIN_REDEMPTIONS} redeemed"
            f" and reported, or {MIN_TICKETS} with reported ticket values)"
        )
    return Verification(address, status, start, end, redeemed, expected, reason)


_REPORTED = """
SELECT n.orchestrator, min(m.minute) AS first,
       sum(m.value_redeemed) AS redeemed, sum(m.ticket_value) AS expected
FROM node_minutes m JOIN nodes n ON n.id = m.node
WHERE m.minute >= $1 AND m.minute < $2
GROUP BY n.orchestrator
"""


async def verify_all(db: Db, tick: datetime) -> tuple[dict[str, Verification], str | None]:
    """Every orchestrator with reports in the period, by address; and, when there is
    no chain data at all, why (everyone is then INSUFFICIENT_DATA)."""
    sync = await sync_state(db)
    end = tick + timedelta(minutes=1) - LAG
    if sync.synced_at is not None:
        end = min(end, sync.synced_at)
    start = end - PERIOD
    rows = await db.fetch(_REPORTED, start, end)
    missing = unavailable_reason(sync)
    if missing is not None:
        return {
            r["orchestrator"]: Verification(
                r["orchestrator"], Status.INSUFFICIENT_DATA, None, None, None, None, missing
            )
            for r in rows
        }, missing
    firsts = {r["orchestrator"]: r["first"] for r in rows}
    chain = await redeemed_since(db, firsts, end)
    out = {}
    for r in rows:
        address = r["orchestrator"]
        on_chain = chain.get(address, Redeemed(0.0, 0))
        checks = [
            check_redeemed(r["redeemed"] * GWEI, on_chain),
            check_expected(r["expected"] * GWEI, on_chain),
        ]
        out[address] = verdict(address, r["first"], end, checks)
    return out, None
