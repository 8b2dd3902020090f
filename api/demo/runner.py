"""Driving a server with the demo network: an optional backfill of recent history,
then live scrapes on the scrape interval, for as long as asked.

Each reporting orchestrator has its own ordered queue of requests, like the queue of
its own Prometheus: its requests go out one at a time, so the server receives every
series' samples in timestamp order (which its rollup relies on), while different
orchestrators send concurrently. Simulating and encoding run in a worker thread so a
server running the demo in its own process keeps answering meanwhile.

A backfill sends samples with past timestamps (a Prometheus catching up after an
outage does the same), so the API has history from the first minute. Live requests
that pile up while a server is away are dropped beyond ``QUEUE_LIMIT`` per
orchestrator, as Prometheus drops what no longer fits its queue.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from api.demo.clock import floor_to, scrape_times
from api.demo.encode import batches
from api.demo.network import DEFAULT_ORCHESTRATORS, DEFAULT_SEED, Network
from api.demo.simulation import Sample, Simulation
from api.demo.writer import Rejected, RemoteWriter, Unauthorized

log = logging.getLogger(__name__)

QUEUE_LIMIT = 64
"""Requests waiting per orchestrator."""
BACKFILL_CHUNK = 15
"""Backfill scrapes simulated per step (bounded memory, steady flow)."""
REPORT_EVERY_SECONDS = 60.0
MAX_CATCH_UP_SECONDS = 300.0

Body = tuple[bytes, int]


@dataclass(frozen=True, slots=True)
class DemoOptions:
    orchestrators: int = DEFAULT_ORCHESTRATORS
    seed: int = DEFAULT_SEED
    scrape_interval: float = 15.0
    """Seconds between live scrapes (a common Prometheus scrape_interval)."""
    backfill_seconds: float = 0.0
    """History to send before going live."""
    backfill_step: float = 60.0
    """Seconds between backfilled scrapes; a multiple of ``scrape_interval``."""


class Shipper:
    """One orchestrator's send queue, drained by ``run`` one request at a time."""

    def __init__(self, address: str, token: str, writer: RemoteWriter) -> None:
        self.address = address
        self.token = token
        self.writer = writer
        self.queue: asyncio.Queue[Body] = asyncio.Queue(QUEUE_LIMIT)
        self.dropped = 0

    async def put(self, bodies: Iterable[Body]) -> None:
        """Queue ``bodies``, waiting for room (backfill: nothing may be lost)."""
        for body in bodies:
            await self.queue.put(body)

    def offer(self, bodies: Iterable[Body]) -> None:
        """Queue ``bodies`` if there is room, else drop them (live: a server away)."""
        for body in bodies:
            try:
                self.queue.put_nowait(body)
            except asyncio.QueueFull:
                self.dropped += 1

    async def run(self) -> None:
        while True:
            body, samples = await self.queue.get()
            try:
                await self.writer.send(self.token, body, samples)
            except Unauthorized:
                raise
            except Rejected as exc:
                log.warning("demo orchestrator %s: batch refused: %s", self.address, exc)
            finally:
                self.queue.task_done()


class DemoLoad:
    """The demo network writing to one server through ``writer``."""

    def __init__(
        self,
        network: Network,
        tokens: dict[str, str],
        writer: RemoteWriter,
        options: DemoOptions,
        progress: Callable[[str, int, int | None], None] | None = None,
    ) -> None:
        if options.backfill_step % options.scrape_interval:
            raise ValueError("the backfill step must be a multiple of the scrape interval")
        self.network = network
        self.writer = writer
        self.options = options
        self.shippers = {
            o.address: Shipper(o.address, tokens[o.address], writer) for o in network.reporting
        }
        self.simulation: Simulation | None = None
        self.progress = progress

    async def run(self, *, start: float | None = None, until: float | None = None) -> None:
        """Backfill from Unix time ``start`` (default: ``backfill_seconds`` ago), then
        scrape live until ``until`` (default: until cancelled).

        Raises ``Unauthorized`` when the server refuses the tokens."""
        senders = [asyncio.create_task(s.run()) for s in self.shippers.values()]
        producer = asyncio.create_task(self._produce(start, until))
        try:
            # Senders only ever end by failing; the producer ends when the run does.
            done, _ = await asyncio.wait([producer, *senders], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # a sender's Unauthorized, or the producer's error
        finally:
            for task in (producer, *senders):
                task.cancel()
            await asyncio.gather(producer, *senders, return_exceptions=True)

    async def _produce(self, start: float | None, until: float | None) -> None:
        now = time.time()
        options = self.options
        if start is None:
            start = now - options.backfill_seconds
        start = floor_to(min(start, now), options.backfill_step)
        self.simulation = Simulation(self.network, start)
        if now - start >= options.backfill_step:
            await self._backfill(now)
        await self._live(until)

    async def _drain(self) -> None:
        # Wait for the queues to empty, unless a sender died (run() reports why).
        await asyncio.gather(*(s.queue.join() for s in self.shippers.values()))

    async def _backfill(self, end: float) -> None:
        assert self.simulation is not None
        began = time.monotonic()
        sent = self.writer.stats.samples
        times = scrape_times(self.simulation.now, end, self.options.backfill_step)
        first = self.simulation.now
        total = int((end - first) // self.options.backfill_step)
        done = 0
        while chunk := list(itertools.islice(times, BACKFILL_CHUNK)):
            bodies = await asyncio.to_thread(self._bodies, chunk)
            await asyncio.gather(*(self.shippers[a].put(b) for a, b in bodies.items()))
            done += len(chunk)
            if self.progress is not None:
                self.progress("backfilling scrapes", min(done, total), total)
        await self._drain()
        log.info(
            "demo: backfilled %.1f h of %d orchestrators (%d samples) in %.1f s",
            (self.simulation.now - first) / 3600,
            len(self.shippers),
            self.writer.stats.samples - sent,
            time.monotonic() - began,
        )

    async def _live(self, until: float | None) -> None:
        assert self.simulation is not None
        interval = self.options.scrape_interval
        reported, sent = time.monotonic(), self.writer.stats.samples
        while True:
            # The next grid point: right away while catching up after a backfill, but
            # after a longer gap (a suspended laptop) a Prometheus just goes on.
            at = self.simulation.now + interval
            if at < time.time() - MAX_CATCH_UP_SECONDS:
                at = floor_to(time.time(), interval)
            if until is not None and at > until:
                await self._drain()
                return
            await asyncio.sleep(max(0.0, at - time.time()))
            bodies = await asyncio.to_thread(self._bodies, [at])
            for address, items in bodies.items():
                self.shippers[address].offer(items)
            if time.monotonic() - reported >= REPORT_EVERY_SECONDS:
                stats = self.writer.stats
                log.info(
                    "demo: %d samples sent in the last %.0f s (%d retries, %d refused, "
                    "%d dropped so far)",
                    stats.samples - sent,
                    time.monotonic() - reported,
                    stats.retries,
                    stats.rejected,
                    sum(s.dropped for s in self.shippers.values()),
                )
                reported, sent = time.monotonic(), stats.samples

    def _bodies(self, times: list[float]) -> dict[str, list[Body]]:
        """Scrape at ``times`` and encode each orchestrator's samples (worker thread)."""
        assert self.simulation is not None
        per_orchestrator: dict[str, list[Sample]] = {a: [] for a in self.shippers}
        for at in times:
            for address, samples in self.simulation.scrape(at).items():
                per_orchestrator[address].extend(samples)
        return {a: list(batches(s)) for a, s in per_orchestrator.items()}
