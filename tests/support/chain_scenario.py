"""A scripted network with a chain for the §9 tests: verification and estimates.

Six hours of one-minute rollups up to the tick, and the winning tickets redeemed on
chain to every orchestrator over the same hours, served by a simulated subgraph.
Every orchestrator has hidden true rates: pixels per ETH of fees (``ratio``), streams
per pixel and source seconds per pixel. Reporting ones report them (the inflating one
three times over); non-reporting ones (N1, N2) only earn fees, so the estimates can be
checked against their true figures.

* T1, T2, T3 (Frankfurt), T4, T5 (New York): truthful; value_redeemed equals the
  chain, ticket_value_recv within 2 % of it. The registry places T3 in New York
  (GeoIP of its service URI): it reports from Frankfurt, so it must not be inferred
  in New York as well.
* I (Frankfurt): inflates every reported figure x3, its tickets included.
* S (New York): truthful but only 2 winning tickets on chain (thin data).
* N1 (Frankfurt), N2 (New York): known (registry, active), not reporting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from api.chain.simulated import SimulatedChain
from tests.support.rollup_rows import Db, Minute, add_minutes, add_node, add_orchestrator, add_place

MINUTES = 360
FACE = 0.02  # ETH per winning ticket
PLACES = {"FRA": (50.11, 8.68, "DE"), "NYC": (40.71, -74.00, "US")}


@dataclass(frozen=True)
class Orch:
    letter: str
    place: str
    tickets: int  # winning tickets redeemed on chain in the six hours
    ratio: float  # true mil_pixels per ETH of fees
    reports: bool = True
    inflate: float = 1.0
    ev_error: float = 0.0  # relative error of the reported expected value
    registry_place: str | None = None  # where the registry places it, if not ``place``
    streams_per_mil_pixel: float = 0.004
    seconds_per_mil_pixel: float = 0.05

    @property
    def address(self) -> str:
        return "0x" + format(ord(self.letter[0]) * 100 + int(self.letter[1:] or 0), "040x")

    @property
    def fees(self) -> float:
        return self.tickets * FACE

    def per_minute_pixels(self) -> float:
        return self.ratio * self.fees / MINUTES


ORCHS = [
    Orch("T1", "FRA", 60, 900_000, ev_error=0.01),
    Orch("T2", "FRA", 40, 1_000_000, ev_error=-0.015),
    Orch("T3", "FRA", 80, 1_150_000, registry_place="NYC"),
    Orch("T4", "NYC", 50, 950_000, ev_error=0.005),
    Orch("T5", "NYC", 70, 1_100_000),
    Orch("I", "FRA", 45, 1_000_000, inflate=3.0),
    Orch("S", "NYC", 2, 1_050_000),
    Orch("N1", "FRA", 55, 980_000, reports=False),
    Orch("N2", "NYC", 65, 1_080_000, reports=False),
]
BY_LETTER = {o.letter: o for o in ORCHS}


def redemption_minutes(o: Orch) -> list[int]:
    """Minute offsets (<= 0 from the tick) of its redemptions, all before the
    verification's lag allowance."""
    span = MINUTES - 60
    return [-(MINUTES - 5) + (i * span) // max(o.tickets, 1) for i in range(o.tickets)]


def chain_for(tick: datetime) -> SimulatedChain:
    chain = SimulatedChain()
    for o in ORCHS:
        chain.add_transcoder(o.address, stake=100)
        for i, offset in enumerate(redemption_minutes(o)):
            ts = int((tick + timedelta(minutes=offset, seconds=7)).timestamp())
            sender = "0x" + format(0xB0 + i % 3, "040x")
            chain.redeem(f"{o.letter}-{i:04d}", ts, o.address, sender, FACE, 0.001)
    return chain


async def load(db: Db, tick: datetime) -> None:
    places = {name: await add_place(db, *spot) for name, spot in PLACES.items()}
    end = tick + timedelta(minutes=1) - timedelta(minutes=30)  # verification's end
    for o in ORCHS:
        registered = places[o.registry_place or o.place]
        await add_orchestrator(db, o.address, stake=100, location=registered)
        if not o.reports:
            continue
        node = await add_node(db, o.address, f"{o.letter.lower()}-1", location=places[o.place])
        redeemed = {m: 0 for m in range(-MINUTES + 1, 1)}
        for m in redemption_minutes(o):
            redeemed[m] += 1
        counted = sum(1 for m in redeemed if tick + timedelta(minutes=m) < end)
        ev_per_minute = o.fees * (1 + o.ev_error) * o.inflate / counted / 1e-9
        pixels = o.per_minute_pixels() * o.inflate
        rows = []
        for m, wins in redeemed.items():
            streams = pixels * o.streams_per_mil_pixel
            rows.append(
                Minute(
                    node,
                    tick + timedelta(minutes=m),
                    places[o.place],
                    sessions_last=streams,
                    sessions_avg=streams,
                    sessions_max=streams,
                    capacity=100,
                    mil_pixels=pixels,
                    segments=pixels / 100,
                    source_seconds=pixels * o.seconds_per_mil_pixel,
                    ticket_value=ev_per_minute,
                    value_redeemed=wins * FACE * o.inflate / 1e-9,
                )
            )
        await add_minutes(db, rows)


def true_hour(orchs: list[Orch]) -> dict[str, float]:
    """The true LAST_HOUR figures of ``orchs`` as the API would report them if every
    one of them reported (the inflating one as it reports)."""
    pixels = sum(o.per_minute_pixels() * o.inflate for o in orchs)  # mil_pixels per minute
    return {
        "avgStreams": sum(
            o.per_minute_pixels() * o.inflate * o.streams_per_mil_pixel for o in orchs
        ),
        "pixelsPerSecond": pixels * 1e6 / 60,
        "transcodedMinutes": sum(
            o.per_minute_pixels() * o.inflate * o.seconds_per_mil_pixel for o in orchs
        ),
    }
