"""The simulated subgraph of ``serve --demo``: the demo network's winning tickets,
redeemed on a simulated chain that the real sync reads over loopback HTTP.

Reporting orchestrators' redemptions are the ones their simulated nodes win
(``Simulation.won``), so their reports agree with the chain, except the one the demo
makes inflate its ticket figures (``api.demo.network.INFLATION``). Orchestrators that
never report have no simulated nodes; they earn fees all the same, each at a fixed
multiple of the reporting orchestrators' mean rate, so the estimates have someone to
infer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

import uvicorn

from api.chain.simulated import SimulatedChain, subgraph_app
from api.demo.network import Network
from api.demo.simulation import FACE_VALUE_WEI, Simulation, poisson

log = logging.getLogger(__name__)

FEED_SECONDS = 5.0
FACE_VALUE_ETH = FACE_VALUE_WEI / 1e18


class DemoChain:
    def __init__(self, network: Network) -> None:
        self.network = network
        self.chain = SimulatedChain()
        self.rng = random.Random(f"lpmetrics-demo:{network.seed}:chain")
        for o in network.orchestrators:
            self.chain.add_transcoder(o.address, stake=o.total_stake, service_uri=o.service_uri)
        # Silent orchestrators' fee rates, relative to the reporting mean.
        self.silent = {
            o.address: self.rng.uniform(0.5, 2.0) for o in network.orchestrators if not o.reports
        }
        self.events = 0

    def _redeem(self, at: float, recipient: str, sender: str, count: int) -> None:
        for _ in range(count):
            self.events += 1
            self.chain.redeem(
                f"0x{self.events:012x}-0", int(at), recipient, sender, FACE_VALUE_ETH, 0.001
            )

    def feed(self, simulation: Simulation) -> int:
        """Move the tickets won since the last call onto the chain; return how many."""
        moved = 0
        reporting = max(1, len(self.network.reporting))
        senders = self.network.broadcasters
        while simulation.won:
            at, orchestrator, sender, count = simulation.won.popleft()
            self._redeem(at, orchestrator, sender, count)
            moved += count
            # Each reporting win has silent counterparts at their relative rates.
            for address, rate in self.silent.items():
                extra = poisson(self.rng, count * rate / reporting)
                if extra:
                    self._redeem(at, address, self.rng.choice(senders).address, extra)
                    moved += extra
        return moved


async def serve(chain: DemoChain, port: int, simulation: callable) -> None:  # type: ignore[valid-type]
    """Serve ``chain`` on loopback ``port`` and keep feeding it from the simulation
    ``simulation()`` returns (None until the demo has started), until cancelled."""
    config = uvicorn.Config(
        subgraph_app(chain.chain), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    log.info("demo: simulated subgraph on http://127.0.0.1:%d/", port)
    try:
        while not task.done():
            current = simulation()
            if current is not None:
                chain.feed(current)
            await asyncio.sleep(FEED_SECONDS)
        task.result()
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
