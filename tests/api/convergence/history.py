"""Scripted histories of nodes: the work go-livepeer reports and the bytes the kernel
counts, minute by minute, as cumulative counters the way a Prometheus scrapes them
(resets included), sent through the real ingest endpoint.

Traffic follows work like a transcoding node's: received bytes are the source
segments (4 Mbit/s of video), transmitted bytes the renditions (bytes per pixel of
the ladder); streams come and go, and two ladders with different pixel rates keep
pixels and source seconds from being proportional."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from tests.support.ingest import node_series, send_series
from tests.support.remote_write_bodies import Series

SOURCE_BYTES_PER_SECOND = 500_000.0  # 4 Mbit/s of source video
RENDITION_BYTES_PER_MIL_PIXEL = 6_250.0  # 0.05 bit per output pixel
LADDERS_MIL_PIXELS_PER_SECOND = (27.6, 62.2)  # 720p+360p, 1080p+720p+480p at 30 fps
SCRAPE_SECOND = 30  # every scrape lands in the middle of its minute

PIXELS = "livepeer_mil_pixels_processed"
SOURCE = "livepeer_source_segment_duration_seconds_sum"
NIC_RX = "node_network_receive_bytes_total"
NIC_TX = "node_network_transmit_bytes_total"
PORT_RX = "lpm_port_receive_bytes_total"
PORT_TX = "lpm_port_transmit_bytes_total"


@dataclass
class Script:
    """How one node behaves; minutes are indices into the history."""

    node: str
    minutes: int
    seed: int = 1
    noise: float = 0.0
    """Bytes off their exact value by up to this fraction, minute by minute."""
    background: tuple[float, float] = (0.0, 0.0)
    """Unrelated traffic (bytes/s received, transmitted) at a constant rate."""
    inflate_from: int | None = None
    """From this minute on, livepeer reports 10 % more work than it does."""
    inflation: float = 1.10
    nic: bool = True
    port: bool = False
    port_from: int = 0
    """The minute the port counters start (an O adding them later)."""
    reset_livepeer_at: Sequence[int] = ()
    reset_nic_at: Sequence[int] = ()
    counters: dict[str, float] = field(default_factory=dict)


def _add(counters: dict[str, float], name: str, amount: float, reset: bool) -> float:
    # A counter that restarted right after the previous scrape reads just what was
    # added since; the rollup must take the reading itself as the increase.
    counters[name] = amount if reset else counters.get(name, 0.0) + amount
    return counters[name]


def samples(script: Script, start_ms: int) -> list[Series]:
    """Every series of the node over its minutes (one scrape a minute)."""
    rng = random.Random(script.seed)
    points: dict[str, list[tuple[int, float]]] = {}
    streams = [3.0, 1.0]  # per ladder
    for i in range(script.minutes):
        ts = start_ms + i * 60_000 + SCRAPE_SECOND * 1000
        # Load wanders between none and ten streams, with a daily-like swing.
        swing = 2.5 + 2.5 * math.sin(i / 90)
        streams = [
            max(0.0, min(6.0, s + rng.uniform(-0.6, 0.6) + 0.05 * (swing - s))) for s in streams
        ]
        source_seconds = 60.0 * sum(streams)
        mil_pixels = 60.0 * sum(
            s * r for s, r in zip(streams, LADDERS_MIL_PIXELS_PER_SECOND, strict=True)
        )
        # The orchestrator's own traffic (what its port sees), then the NIC's.
        port_rx = source_seconds * SOURCE_BYTES_PER_SECOND
        port_tx = mil_pixels * RENDITION_BYTES_PER_MIL_PIXEL
        port_rx *= 1 + rng.uniform(-script.noise, script.noise)
        port_tx *= 1 + rng.uniform(-script.noise, script.noise)
        rx = port_rx + 60 * script.background[0]
        tx = port_tx + 60 * script.background[1]
        factor = (
            script.inflation
            if script.inflate_from is not None and i >= script.inflate_from
            else 1.0
        )
        lp_reset = i in script.reset_livepeer_at
        nic_reset = i in script.reset_nic_at
        c = script.counters
        points.setdefault(PIXELS, []).append((ts, _add(c, PIXELS, mil_pixels * factor, lp_reset)))
        points.setdefault(SOURCE, []).append(
            (ts, _add(c, SOURCE, source_seconds * factor, lp_reset))
        )
        if script.nic:
            points.setdefault(NIC_RX, []).append((ts, _add(c, NIC_RX, rx, nic_reset)))
            points.setdefault(NIC_TX, []).append((ts, _add(c, NIC_TX, tx, nic_reset)))
        if script.port and i >= script.port_from:
            points.setdefault(PORT_RX, []).append((ts, _add(c, PORT_RX, port_rx, nic_reset)))
            points.setdefault(PORT_TX, []).append((ts, _add(c, PORT_TX, port_tx, nic_reset)))
    out = []
    for name, values in points.items():
        extra = {"device": "eth0"} if name in (NIC_RX, NIC_TX) else {}
        if name in (PORT_RX, PORT_TX):
            extra = {"port": "8935"}
        out.append(node_series(name, values, node=script.node, **extra))
    return out


async def send_history(
    http: httpx.AsyncClient, token: str, scripts: Sequence[Script], start_ms: int
) -> None:
    """Send the scripts' histories an hour at a time, in time order, as Prometheus
    would after an outage."""
    every = [s for script in scripts for s in samples(script, start_ms)]
    end = max(ts for s in every for ts, _ in s.samples)
    hour = 3_600_000
    for lo in range(start_ms, end + 1, hour):
        chunk = []
        for s in every:
            part = [(ts, v) for ts, v in s.samples if lo <= ts < lo + hour]
            if part:
                chunk.append(Series(s.labels, part))
        if chunk:
            await send_series(http, token, chunk)
