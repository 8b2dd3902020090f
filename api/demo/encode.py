"""Remote-write 1.0 request bodies, as Prometheus sends them: a protobuf
``prometheus.WriteRequest``, snappy block-compressed.

Samples are cut into requests of at most ``MAX_SAMPLES_PER_SEND`` (Prometheus'
``max_samples_per_send`` default, and what the generated ``remote_write`` block sets);
within a request a series' samples are grouped in one ``TimeSeries`` in timestamp
order, which the protocol allows and keeps backfill bodies small.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from cramjam import snappy

from api.demo.simulation import Labels, Sample
from api.remote_write import remote_v1_pb2

MAX_SAMPLES_PER_SEND = 2000
HEADERS = {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}


def encode(series: Iterable[tuple[Labels, Iterable[tuple[int, float]]]]) -> bytes:
    """A compressed ``WriteRequest`` of ``(labels, [(timestamp ms, value), ...])``."""
    request = remote_v1_pb2.WriteRequest()
    for labels, samples in series:
        ts = request.timeseries.add()
        for name, value in labels:
            ts.labels.add(name=name, value=value)
        for timestamp, value in samples:
            ts.samples.add(timestamp=timestamp, value=value)
    return bytes(snappy.compress_raw(request.SerializeToString()))


def batches(
    samples: Iterable[Sample], limit: int = MAX_SAMPLES_PER_SEND
) -> Iterator[tuple[bytes, int]]:
    """(body, samples in it) of at most ``limit`` samples each, in the order given; a
    series' samples must come in timestamp order, as they do from a scrape loop."""
    pending: dict[Labels, list[tuple[int, float]]] = {}
    count = 0
    for labels, timestamp, value in samples:
        pending.setdefault(labels, []).append((timestamp, value))
        count += 1
        if count == limit:
            yield encode(pending.items()), count
            pending, count = {}, 0
    if pending:
        yield encode(pending.items()), count
