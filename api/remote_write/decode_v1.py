"""Decode an uncompressed remote-write 1.0 `prometheus.WriteRequest`.

Reading labels through the spec message costs a Python object per label, and
that dominates decoding. So a request is first read through the decoding
views of `views.proto`: per series, label names and values arrive as two
string lists, and a census counts label entries, exemplars and native
histograms in the whole request. Only when the census shows the columns may
not pair up (some label has an empty name or value) or exemplars or
histograms need counting per series is the request read through the spec
message instead. Requests from Prometheus take the fast path.
"""

from __future__ import annotations

from operator import attrgetter

from google.protobuf.message import DecodeError

from api.remote_write import remote_v1_pb2, views_pb2
from api.remote_write.errors import InvalidRequest, MalformedRequest
from api.remote_write.labels import LabelError, metric_name, name_set, series_error, series_labels
from api.remote_write.model import DecodedRequest, DecodedSeries

_MALFORMED = "body is not a valid prometheus.WriteRequest protobuf message"
_sample = attrgetter("timestamp", "value")
_label = attrgetter("name", "value")


def decode_v1(raw: bytes | memoryview) -> DecodedRequest:
    """Decode an uncompressed `prometheus.WriteRequest`."""
    census = views_pb2.WriteRequestCensus()
    try:
        census.ParseFromString(raw)
    except DecodeError:
        raise MalformedRequest(_MALFORMED) from None
    totals = census.timeseries
    if totals.histograms or totals.exemplars:
        return decode_v1_strict(raw)
    columns = views_pb2.WriteRequestColumns()
    try:
        # Fails where the census could not: the census skips label contents,
        # this parse checks that they are UTF-8 strings.
        columns.ParseFromString(raw)
    except DecodeError:
        raise MalformedRequest(_MALFORMED) from None
    timeseries = columns.timeseries[:]
    label_columns = [ts.labels for ts in timeseries]
    all_names = [lc.names[:] for lc in label_columns]
    all_values = [lc.values[:] for lc in label_columns]
    # A label entry adds at most one name and one value to the columns
    # (encoders never repeat a field within a message), so equal totals mean
    # every label has both, and names and values pair up by position.
    label_entries = len(totals.labels)
    if sum(map(len, all_names)) != label_entries or sum(map(len, all_values)) != label_entries:
        return decode_v1_strict(raw)

    series: list[DecodedSeries] = []
    total_samples = 0
    index = 0
    try:
        for index, (names, values, ts) in enumerate(
            zip(all_names, all_values, timeseries, strict=True)
        ):
            label_names, position = name_set(tuple(names))
            name = metric_name(values[position])
            samples = list(map(_sample, ts.samples))
            if not samples:
                raise InvalidRequest(f"timeseries[{index}] ({name}) has no samples")
            series.append(DecodedSeries(name, label_names, values, samples, 0, 0))
            total_samples += len(samples)
    except LabelError as exc:
        raise series_error(index, exc) from None
    return DecodedRequest(1, series, total_samples, 0, 0)


def decode_v1_strict(raw: bytes | memoryview) -> DecodedRequest:
    """Decode through the spec message: exact for any input, a few times slower."""
    message = remote_v1_pb2.WriteRequest()
    try:
        message.ParseFromString(raw)
    except DecodeError:
        raise MalformedRequest(_MALFORMED) from None
    series: list[DecodedSeries] = []
    total_samples = total_histograms = total_exemplars = 0
    for index, ts in enumerate(message.timeseries):
        pairs = list(map(_label, ts.labels))
        names, values = zip(*pairs, strict=True) if pairs else ((), ())
        name, label_names, label_values = series_labels(names, values, index)
        samples = list(map(_sample, ts.samples))
        histograms = len(ts.histograms)
        exemplars = len(ts.exemplars)
        # 1.0 senders (Prometheus included) put each exemplar in a series entry
        # of its own, so an exemplar-only series is normal; an empty one is not.
        if not (samples or histograms or exemplars):
            raise InvalidRequest(f"timeseries[{index}] ({name}) has no samples")
        series.append(
            DecodedSeries(name, label_names, label_values, samples, histograms, exemplars)
        )
        total_samples += len(samples)
        total_histograms += histograms
        total_exemplars += exemplars
    return DecodedRequest(1, series, total_samples, total_histograms, total_exemplars)
