"""What ingest keeps: the one definition behind both the server's filter at the door
and the ``write_relabel_configs`` that ``lpmetrics token create`` prints, so the two
cannot drift apart.

Required metrics are kept from every orchestrator; optional ones only from those that
enabled them (``lpmetrics sharing set``). Everything else is dropped and counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Kind = Literal["gauge", "counter"]


@dataclass(frozen=True, slots=True)
class Metric:
    family: str
    """The name as go-livepeer / node_exporter export it and ``--optional`` takes it."""
    series: tuple[str, ...]
    """Series names kept: a histogram keeps its ``_sum`` (and ``_count``), never buckets."""
    kind: Kind
    required: bool
    purpose: str


METRICS: tuple[Metric, ...] = (
    Metric(
        "livepeer_current_sessions_total",
        ("livepeer_current_sessions_total",),
        "gauge",
        True,
        "streams now",
    ),
    Metric(
        "livepeer_max_sessions_total", ("livepeer_max_sessions_total",), "gauge", True, "capacity"
    ),
    Metric(
        "livepeer_mil_pixels_processed",
        ("livepeer_mil_pixels_processed",),
        "counter",
        True,
        "resolution-weighted demand and its origin",
    ),
    Metric(
        "livepeer_segment_transcoded_total",
        ("livepeer_segment_transcoded_total",),
        "counter",
        True,
        "segments transcoded",
    ),
    Metric(
        "livepeer_source_segment_duration_seconds",
        ("livepeer_source_segment_duration_seconds_sum",),
        "counter",
        True,
        "minutes of video transcoded",
    ),
    Metric(
        "livepeer_ticket_value_recv",
        ("livepeer_ticket_value_recv",),
        "counter",
        True,
        "fees; broadcasters by keyed hash",
    ),
    Metric(
        "livepeer_tickets_recv",
        ("livepeer_tickets_recv",),
        "counter",
        True,
        "tickets; broadcasters by keyed hash",
    ),
    Metric(
        "livepeer_winning_tickets_recv",
        ("livepeer_winning_tickets_recv",),
        "counter",
        True,
        "winning tickets; broadcasters by keyed hash",
    ),
    Metric(
        "livepeer_segment_transcode_failed_total",
        ("livepeer_segment_transcode_failed_total",),
        "counter",
        False,
        "failed segments (quality)",
    ),
    Metric(
        "livepeer_transcode_time_seconds",
        ("livepeer_transcode_time_seconds_sum", "livepeer_transcode_time_seconds_count"),
        "counter",
        False,
        "transcode time (quality; kept raw only)",
    ),
    Metric(
        "livepeer_value_redeemed",
        ("livepeer_value_redeemed",),
        "counter",
        False,
        "on-chain cross-check of fees",
    ),
    Metric(
        "node_network_receive_bytes_total",
        ("node_network_receive_bytes_total",),
        "counter",
        False,
        "NIC cross-check of reported work",
    ),
    Metric(
        "node_network_transmit_bytes_total",
        ("node_network_transmit_bytes_total",),
        "counter",
        False,
        "NIC cross-check of reported work",
    ),
    # Per-port byte counters an O exports through node_exporter's textfile collector
    # (docs/convergence.md): the orchestrator's own traffic, preferred over the NIC's.
    Metric(
        "lpm_port_receive_bytes_total",
        ("lpm_port_receive_bytes_total",),
        "counter",
        False,
        "per-port cross-check of reported work",
    ),
    Metric(
        "lpm_port_transmit_bytes_total",
        ("lpm_port_transmit_bytes_total",),
        "counter",
        False,
        "per-port cross-check of reported work",
    ),
)

BY_SERIES: dict[str, Metric] = {name: m for m in METRICS for name in m.series}
BY_FAMILY: dict[str, Metric] = {m.family: m for m in METRICS}
REQUIRED: tuple[str, ...] = tuple(m.family for m in METRICS if m.required)
OPTIONAL: tuple[str, ...] = tuple(m.family for m in METRICS if not m.required)

NODE_LABEL = "node_id"
"""Ties a series to a node; series without it cannot be attributed and are dropped."""
KEPT_LABELS: tuple[str, ...] = ("node_id", "node_type", "sender", "client_ip", "device", "port")
"""Labels a feature needs. sender and client_ip are transformed at once (labels.py);
device only serves to leave out the loopback interface; device and port keep the
counters of several interfaces or ports apart (they are summed per node)."""
FOLDED_LABELS: tuple[str, ...] = ("manifest_id", "profiles", "trusted", "verified", "error_code")
"""Labels the service does not keep but which tell apart distinct counters of one node
(one per stream, per rendition set, per error code). Dropping them outright would merge
those counters into one series with interleaved values, so the generated relabel config
folds them into one opaque hash label first."""
SERIES_KEY_LABEL = "lpm_series"
"""The label holding that hash (md5-based ``hashmod`` over FOLDED_LABELS)."""
NIC_METRICS = frozenset({"node_network_receive_bytes_total", "node_network_transmit_bytes_total"})
PORT_METRICS = frozenset({"lpm_port_receive_bytes_total", "lpm_port_transmit_bytes_total"})
LOOPBACK_DEVICE = "lo"

TICKET_SERIES = frozenset(
    {"livepeer_ticket_value_recv", "livepeer_tickets_recv", "livepeer_winning_tickets_recv"}
)
"""The counters whose increases make a sender count as a paying broadcaster."""


class UnknownMetric(ValueError):
    """A name given as an optional metric is not one."""


def check_optional(names: Iterable[str]) -> tuple[str, ...]:
    """The optional families in ``names`` (sorted, unique); raise ``UnknownMetric`` for
    anything that is not an optional metric, naming the valid choices."""
    chosen = sorted(set(names))
    for name in chosen:
        if name not in OPTIONAL:
            what = "is required, always kept" if name in REQUIRED else "is not an optional metric"
            raise UnknownMetric(f"{name} {what}; optional metrics: {', '.join(OPTIONAL)}")
    return tuple(chosen)


def kept_series(optional: Iterable[str] = ()) -> tuple[str, ...]:
    """Series names kept from an orchestrator that enabled ``optional`` families."""
    enabled = set(optional)
    return tuple(name for m in METRICS if m.required or m.family in enabled for name in m.series)
