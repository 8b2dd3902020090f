"""Build Prometheus remote-write request bodies from plain Python data.

For tests and benchmarks of anything that receives remote write:

    body = v1_body([Series({"__name__": "up", "job": "x"}, [(1_700_000_000_000, 1.0)])])
    httpx.post(url, content=body, headers=V1_HEADERS)

Labels given as a mapping are sorted by name, as Prometheus sends them; a list
of (name, value) pairs is sent exactly as given, to build invalid requests.
`livepeer_series()` makes realistic go-livepeer orchestrator series.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import cramjam

from api.remote_write import remote_v1_pb2, remote_v2_pb2
from api.remote_write.negotiate import CONTENT_TYPE_V1, CONTENT_TYPE_V2

LabelsIn = Mapping[str, str] | Sequence[tuple[str, str]]

V1_HEADERS = {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": "lpmetrics-tests",
}
V1_HEADERS_EXPLICIT = {**V1_HEADERS, "Content-Type": CONTENT_TYPE_V1}
V2_HEADERS = {
    "Content-Type": CONTENT_TYPE_V2,
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "2.0.0",
    "User-Agent": "lpmetrics-tests",
}


@dataclass
class Series:
    labels: LabelsIn
    samples: Sequence[tuple[int, float]] = ()
    """(timestamp ms, value) pairs."""
    histograms: Sequence[int] = ()
    """Timestamps (ms) of native-histogram samples to attach (contents are dummies)."""
    exemplars: Sequence[tuple[int, float]] = ()
    """(timestamp ms, value) exemplars, each labelled trace_id="t<i>"."""
    extra: dict[str, object] = field(default_factory=dict)
    """v2 only: extra TimeSeries fields, e.g. {"created_timestamp": 1}."""


SeriesIn = Series | tuple[LabelsIn, Sequence[tuple[int, float]]]


def compress(raw: bytes) -> bytes:
    """Snappy block-compress, as remote write requires."""
    return bytes(cramjam.snappy.compress_raw(raw))


def v1_request(series: Iterable[SeriesIn]) -> remote_v1_pb2.WriteRequest:
    request = remote_v1_pb2.WriteRequest()
    for item in series:
        s = _series(item)
        ts = request.timeseries.add()
        for name, value in _pairs(s.labels):
            ts.labels.add(name=name, value=value)
        for timestamp, value in s.samples:
            ts.samples.add(timestamp=timestamp, value=value)
        for timestamp in s.histograms:
            ts.histograms.add(timestamp=timestamp, count_int=1, sum=1.0, schema=0)
        for i, (timestamp, value) in enumerate(s.exemplars):
            exemplar = ts.exemplars.add(timestamp=timestamp, value=value)
            exemplar.labels.add(name="trace_id", value=f"t{i}")
    return request


def v1_body(series: Iterable[SeriesIn]) -> bytes:
    """A snappy-compressed `prometheus.WriteRequest` body."""
    return compress(v1_request(series).SerializeToString())


def v2_request(series: Iterable[SeriesIn]) -> remote_v2_pb2.Request:
    request = remote_v2_pb2.Request()
    symbols: dict[str, int] = {"": 0}

    def ref(text: str) -> int:
        return symbols.setdefault(text, len(symbols))

    for item in series:
        s = _series(item)
        ts = request.timeseries.add(**s.extra)
        for name, value in _pairs(s.labels):
            ts.labels_refs.extend((ref(name), ref(value)))
        for timestamp, value in s.samples:
            ts.samples.add(timestamp=timestamp, value=value)
        for timestamp in s.histograms:
            ts.histograms.add(timestamp=timestamp, count_int=1, sum=1.0, schema=0)
        for i, (timestamp, value) in enumerate(s.exemplars):
            ts.exemplars.add(
                timestamp=timestamp, value=value, labels_refs=(ref("trace_id"), ref(f"t{i}"))
            )
    request.symbols.extend(symbols)  # dicts keep insertion order: index == ref
    return request


def v2_body(series: Iterable[SeriesIn]) -> bytes:
    """A snappy-compressed `io.prometheus.write.v2.Request` body."""
    return compress(v2_request(series).SerializeToString())


NODE_ID = "0x5Be44e23041E93CDF9bCd5A0968524e104e38ae1-orch-fra-1"


def livepeer_series(
    count: int = 2_000,
    *,
    timestamp_ms: int = 1_700_000_000_000,
    samples_per_series: int = 1,
    node_id: str = NODE_ID,
) -> list[Series]:
    """`count` series shaped like a go-livepeer orchestrator run with
    -metricsPerStream -metricsClientIP, scraped by Prometheus (job, instance)."""
    fixed = {"instance": "orch-fra-1:7935", "job": "livepeer", "node_id": node_id}
    series: list[Series] = [
        Series({"__name__": "livepeer_current_sessions_total", **fixed, "node_type": "orch"}),
        Series({"__name__": "livepeer_max_sessions_total", **fixed, "node_type": "orch"}),
    ]
    per_stream = (
        "livepeer_ticket_value_recv",
        "livepeer_tickets_recv",
        "livepeer_winning_tickets_recv",
        "livepeer_mil_pixels_processed",
    )
    stream = 0
    while len(series) < count:
        for metric in per_stream:
            labels = {"__name__": metric, **fixed, "node_type": "orch"}
            labels["manifest_id"] = f"stream-{stream:05d}"
            if metric == "livepeer_mil_pixels_processed":
                labels["client_ip"] = f"198.51.{100 + stream // 250 % 100}.{stream % 250}"
            else:
                labels["sender"] = f"0xC3c7c4C8f7061b7D6a72766eEe5359Fe4F{stream:06X}"
            series.append(Series(labels))
        stream += 1
    series = series[:count]
    for i, s in enumerate(series):
        s.samples = [
            (timestamp_ms + 15_000 * k, float(i * 10 + k)) for k in range(samples_per_series)
        ]
    return series


def _series(item: SeriesIn) -> Series:
    return item if isinstance(item, Series) else Series(item[0], item[1])


def _pairs(labels: LabelsIn) -> list[tuple[str, str]]:
    if isinstance(labels, Mapping):
        return sorted(labels.items())
    return list(labels)
