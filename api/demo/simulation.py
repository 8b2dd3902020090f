"""Streams coming and going on the demo network, and the metrics go-livepeer exports
about them, as Prometheus would scrape them.

Each node takes streams up to its capacity: arrivals follow the daily demand cycle
(``clock.demand``) and stream lengths are exponential, so sessions wander around
``capacity * load * demand``. A stream is paid for by one broadcaster, most often one
from the node's own region, and the big broadcasters send streams everywhere, so one
``sender`` shows up at many orchestrators.

A scrape returns, per orchestrator, what its Prometheus reads from each node's
``/metrics`` for the allowlisted families (the generated ``remote_write`` block keeps
only those names; the service folds or drops the rest of the labels itself): the
session gauges, counters that only ever grow, per-stream series (``manifest_id``,
``sender``, ``client_ip``) on the nodes whose orchestrator enabled those flags, and
Prometheus' ``job``/``instance`` target labels. A per-stream series whose stream ended
gets one stale marker, as Prometheus writes when a series leaves a target.

Nodes of orchestrators that share node_exporter's NIC counters (``shares_nic``) count
bytes as a transcoding node moves them: the sources received, the renditions sent and
a steady baseline. Renditions are sent at ``RENDITION_BITS_PER_PIXEL`` rather than
their profiles' bitrates: with the stock bitrates, bits per pixel differ by ladder
(about 100 to 150 kbit per million pixels), so a node whose ladder mix shifts drifts a
few percent off any one-coefficient model and would flap between CONVERGED and
DIVERGED at the 2 % tolerance (docs/convergence.md, "Assumptions"). The demo keeps one
clear divergence instead: for two hours in every four, one node's go-livepeer reports
a quarter more work than it does (``PHANTOM_WORK``), which no calibration can absorb.

Every node draws from its own seeded generator, so the same network, start time and
scrape times give the same samples.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import deque
from dataclasses import dataclass, field

from api.demo.clock import demand
from api.demo.ladders import SEGMENT_SECONDS, SOURCE_BITRATE_BPS, Ladder
from api.demo.network import Broadcaster, Network, Node, Orchestrator
from api.remote_write import STALE_NAN

Labels = tuple[tuple[str, str], ...]
"""(name, value) pairs sorted by name, ``__name__`` included."""
Sample = tuple[Labels, int, float]
"""(labels, timestamp in ms, value)."""

MEAN_STREAM_SECONDS = 30 * 60.0
MIN_STREAM_SECONDS = 60.0
FACE_VALUE_WEI = 1e14
"""Face value of a winning ticket; a ticket wins with probability EV / face value."""
OWN_REGION_PREFERENCE = 4.0
"""How much likelier a broadcaster is to use a node in its own region."""
BASELINE_RX_BPS = 160_000
BASELINE_TX_BPS = 120_000
LOOPBACK_BPS = 40_000
RENDITION_BITS_PER_PIXEL = 0.1
PHANTOM_WORK = 1.25

SESSIONS = "livepeer_current_sessions_total"
CAPACITY = "livepeer_max_sessions_total"
PIXELS = "livepeer_mil_pixels_processed"
SEGMENTS = "livepeer_segment_transcoded_total"
SOURCE_SECONDS = "livepeer_source_segment_duration_seconds_sum"
TICKET_VALUE = "livepeer_ticket_value_recv"
TICKETS = "livepeer_tickets_recv"
WINNING_TICKETS = "livepeer_winning_tickets_recv"
VALUE_REDEEMED = "livepeer_value_redeemed"
GWEI = 1e9
"""go-livepeer exports ticket values in gwei."""
NIC_RX = "node_network_receive_bytes_total"
NIC_TX = "node_network_transmit_bytes_total"


def labels(**values: str) -> Labels:
    """A label set as Prometheus sends it: sorted by name (``name`` is ``__name__``)."""
    pairs = {("__name__" if k == "name" else k): v for k, v in values.items()}
    return tuple(sorted(pairs.items()))


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; a normal approximation for large means)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


@dataclass(slots=True)
class Stream:
    manifest_id: str
    broadcaster: Broadcaster
    client_ip: str
    ladder: Ladder
    segment_seconds: float
    start: float
    end: float
    seconds: float = 0.0
    """Seconds of video transcoded so far."""
    segments: int = 0
    pixels_key: Labels = ()
    ticket_keys: tuple[Labels, Labels, Labels] = ((), (), ())
    scraped: bool = False


@dataclass(slots=True)
class NodeState:
    orchestrator: Orchestrator
    node: Node
    rng: random.Random
    broadcasters: tuple[Broadcaster, ...]
    cum_weights: list[float]
    offset_ms: int
    """This target's place in Prometheus' scrape spread."""
    streams: list[Stream] = field(default_factory=list)
    counters: dict[Labels, float] = field(default_factory=dict)
    ended: list[Labels] = field(default_factory=list)
    """Series of streams that ended since the last scrape: they get a stale marker."""
    base: dict[str, str] = field(default_factory=dict)
    """Labels of every go-livepeer series of the node: node_id, node_type, job, instance."""
    segment_keys: dict[str, Labels] = field(default_factory=dict)
    source_key: Labels = ()
    gauge_keys: tuple[Labels, Labels] = ((), ())
    nic_keys: dict[str, tuple[Labels, Labels]] = field(default_factory=dict)
    redeemed_keys: dict[str, Labels] = field(default_factory=dict)


class Simulation:
    """The demo network from Unix time ``start`` on; advance it with ``scrape``."""

    def __init__(self, network: Network, start: float) -> None:
        self.network = network
        self.now = start
        # Winning tickets as they are redeemed: (Unix time, orchestrator, sender,
        # count), for a simulated chain to pick up (``api.demo.chain``); appended by
        # the simulating thread, taken by the event loop.
        self.won: deque[tuple[float, str, str, int]] = deque()
        self._nodes = [self._state(o, n) for o, n in network.nodes]
        self._diverging = next((s for s in self._nodes if s.orchestrator.shares_nic), None)

    @property
    def diverging(self) -> tuple[str, str] | None:
        """(orchestrator address, ``node_id``) of the node whose reported work diverges
        from its traffic."""
        s = self._diverging
        return None if s is None else (s.orchestrator.address, s.node.node_id)
        for state in self._nodes:
            self._warm_start(state)

    def _state(self, orchestrator: Orchestrator, node: Node) -> NodeState:
        rng = random.Random(f"lpmetrics-demo:{self.network.seed}:{node.node_id}:{self.now}")
        weights = [
            b.weight * (OWN_REGION_PREFERENCE if b.region == node.region else 1.0)
            for b in self.network.broadcasters
        ]
        state = NodeState(
            orchestrator=orchestrator,
            node=node,
            rng=rng,
            broadcasters=self.network.broadcasters,
            cum_weights=list(itertools.accumulate(weights)),
            offset_ms=rng.randrange(0, 1000),
            base={
                "node_id": node.node_id,
                "node_type": "orch",
                "job": "livepeer",
                "instance": f"{node.host}:7935",
            },
        )
        for ladder in node.ladders:
            state.segment_keys[ladder.label] = labels(
                name=SEGMENTS,
                profiles=ladder.label,
                trusted="trusted",
                verified="verified",
                **state.base,
            )
        state.source_key = labels(name=SOURCE_SECONDS, **state.base)
        # Redemptions per sender (with -metricsPerStream), present from the start so
        # the first one counts (a counter's first sample adds nothing).
        for b in self.network.broadcasters:
            extra = {"sender": b.address} if orchestrator.per_stream else {}
            key = labels(name=VALUE_REDEEMED, **extra, **state.base)
            state.redeemed_keys[b.address] = key
            state.counters[key] = 0.0
        state.gauge_keys = (
            labels(name=SESSIONS, **state.base),
            labels(name=CAPACITY, **state.base),
        )
        # node_exporter is a target of its own: its job and port, and the node_id
        # label the operator adds in static_configs so the series can be attributed.
        target = {"node_id": node.node_id, "job": "node", "instance": f"{node.host}:9100"}
        for device in ("eth0", "lo"):
            state.nic_keys[device] = (
                labels(name=NIC_RX, device=device, **target),
                labels(name=NIC_TX, device=device, **target),
            )
        return state

    def _target(self, node: Node, at: float) -> float:
        """Streams the node would carry on average at ``at``."""
        return node.capacity * node.load * demand(node.longitude, at)

    def _warm_start(self, state: NodeState) -> None:
        # Start in the steady state, not empty: streams already running (exponential
        # lengths are memoryless, so their remaining time is drawn the same way).
        running = min(state.node.capacity, poisson(state.rng, self._target(state.node, self.now)))
        for _ in range(running):
            state.streams.append(self._new_stream(state, self.now))

    def _length(self, rng: random.Random) -> float:
        return max(MIN_STREAM_SECONDS, rng.expovariate(1 / MEAN_STREAM_SECONDS))

    def _new_stream(self, state: NodeState, start: float) -> Stream:
        rng = state.rng
        broadcaster = rng.choices(state.broadcasters, cum_weights=state.cum_weights)[0]
        ladders = state.node.ladders
        ladder = rng.choices(ladders, [ladder.weight for ladder in ladders])[0]
        stream = Stream(
            manifest_id=f"{rng.getrandbits(64):016x}",
            broadcaster=broadcaster,
            client_ip=rng.choice(broadcaster.gateway_ips),
            ladder=ladder,
            segment_seconds=SEGMENT_SECONDS * rng.uniform(0.95, 1.05),
            start=start,
            end=start + self._length(rng),
        )
        orchestrator, base = state.orchestrator, state.base
        pixel_labels = dict(base)
        if orchestrator.per_stream:
            pixel_labels["manifest_id"] = stream.manifest_id
        if orchestrator.client_ip:
            pixel_labels["client_ip"] = stream.client_ip
        stream.pixels_key = labels(name=PIXELS, **pixel_labels)
        ticket_labels = dict(base)
        if orchestrator.per_stream:
            ticket_labels["manifest_id"] = stream.manifest_id
            ticket_labels["sender"] = broadcaster.address
        stream.ticket_keys = (
            labels(name=TICKET_VALUE, **ticket_labels),
            labels(name=TICKETS, **ticket_labels),
            labels(name=WINNING_TICKETS, **ticket_labels),
        )
        return stream

    def scrape(self, at: float) -> dict[str, list[Sample]]:
        """Advance to Unix time ``at`` and return what each reporting orchestrator's
        Prometheus scrapes then, by checksummed address."""
        if at <= self.now:
            raise ValueError("scrapes must move forward in time")
        result: dict[str, list[Sample]] = {o.address: [] for o in self.network.reporting}
        for state in self._nodes:
            self._advance(state, self.now, at)
            result[state.orchestrator.address].extend(self._read(state, at))
        self.now = at
        return result

    def _advance(self, state: NodeState, since: float, until: float) -> None:
        node, rng = state.node, state.rng
        elapsed = until - since
        expected = self._target(node, (since + until) / 2) / MEAN_STREAM_SECONDS * elapsed
        arrivals = sorted(since + rng.random() * elapsed for _ in range(poisson(rng, expected)))
        for moment in arrivals:
            # go-livepeer refuses a session beyond -maxSessions.
            if sum(1 for s in state.streams if s.end > moment) < node.capacity:
                state.streams.append(self._new_stream(state, moment))

        orchestrator = state.orchestrator
        counters = state.counters
        phantom = PHANTOM_WORK if self._phantom(state, since) else 1.0
        video_seconds = 0.0
        output_bits = 0.0
        for stream in state.streams:
            overlap = min(stream.end, until) - max(stream.start, since)
            if overlap <= 0:
                continue
            stream.seconds += overlap
            video_seconds += overlap
            output_bits += (
                overlap * stream.ladder.mil_pixels_per_second * 1e6 * (RENDITION_BITS_PER_PIXEL)
            )
            done = int(stream.seconds // stream.segment_seconds)
            new = done - stream.segments
            stream.segments = done
            if new <= 0:
                continue
            source = new * stream.segment_seconds
            mil_pixels = source * stream.ladder.mil_pixels_per_second
            _add(counters, stream.pixels_key, mil_pixels * phantom)
            _add(counters, state.segment_keys[stream.ladder.label], new)
            _add(counters, state.source_key, source * phantom)
            tickets = new * stream.broadcaster.tickets_per_segment
            value = mil_pixels * 1e6 * orchestrator.price_wei_per_pixel
            value_key, tickets_key, winning_key = stream.ticket_keys
            inflation = orchestrator.inflation
            _add(counters, value_key, value / GWEI * inflation)
            _add(counters, tickets_key, tickets)
            win_probability = min(1.0, value / tickets / FACE_VALUE_WEI)
            wins = poisson(rng, tickets * win_probability)
            _add(counters, winning_key, wins)
            if wins:
                # Redeemed at once, for their face value.
                redeemed = state.redeemed_keys[stream.broadcaster.address]
                _add(counters, redeemed, wins * FACE_VALUE_WEI / GWEI * inflation)
                self.won.append((until, orchestrator.address, stream.broadcaster.address, wins))
        if orchestrator.shares_nic:
            self._add_nic(state, elapsed, video_seconds, output_bits)

        still = []
        for stream in state.streams:
            if stream.end > until:
                still.append(stream)
            elif orchestrator.per_stream:
                # Its series leave the target; Prometheus marks them stale.
                keys = (stream.pixels_key, *stream.ticket_keys)
                if stream.scraped:
                    state.ended.extend(k for k in keys if k in counters)
                for key in keys:
                    counters.pop(key, None)
        state.streams = still

    def _phantom(self, state: NodeState, at: float) -> bool:
        """Whether the diverging node reports work it does not do at ``at``."""
        return state is self._diverging and int(at // 7200) % 2 == 1

    def _add_nic(
        self, state: NodeState, elapsed: float, video_seconds: float, output_bits: float
    ) -> None:
        rx = (BASELINE_RX_BPS * elapsed + SOURCE_BITRATE_BPS * video_seconds) / 8
        tx = (BASELINE_TX_BPS * elapsed + output_bits) / 8
        loop = LOOPBACK_BPS * elapsed / 8
        for device, received, sent in (("eth0", rx, tx), ("lo", loop, loop)):
            rx_key, tx_key = state.nic_keys[device]
            _add(state.counters, rx_key, received)
            _add(state.counters, tx_key, sent)

    def _read(self, state: NodeState, at: float) -> list[Sample]:
        ts = int(at * 1000) - state.offset_ms
        out: list[Sample] = [(key, ts, STALE_NAN) for key in state.ended]
        state.ended.clear()
        sessions_key, capacity_key = state.gauge_keys
        out.append((sessions_key, ts, float(len(state.streams))))
        out.append((capacity_key, ts, float(state.node.capacity)))
        out.extend((key, ts, value) for key, value in state.counters.items())
        for stream in state.streams:
            stream.scraped = stream.scraped or stream.pixels_key in state.counters
        return out

    def sessions(self) -> dict[str, int]:
        """Streams running now on each node, by ``node_id`` (for tests and logs)."""
        return {s.node.node_id: len(s.streams) for s in self._nodes}


def _add(counters: dict[Labels, float], key: Labels, amount: float) -> None:
    counters[key] = counters.get(key, 0.0) + amount
