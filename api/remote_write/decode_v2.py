"""Decode an uncompressed remote-write 2.0 `io.prometheus.write.v2.Request`.

Label strings are interned in the request's symbols table; `labels_refs` is a
packed list of (name, value) indices into it, so labels cost no per-label
protobuf objects here.
"""

from __future__ import annotations

from operator import attrgetter

from google.protobuf.message import DecodeError

from api.remote_write import remote_v2_pb2, views_pb2
from api.remote_write.errors import InvalidRequest, MalformedRequest
from api.remote_write.labels import LabelError, metric_name, name_set, series_error, series_labels
from api.remote_write.model import DecodedRequest, DecodedSeries

_MALFORMED = "body is not a valid io.prometheus.write.v2.Request protobuf message"
_sample = attrgetter("timestamp", "value")


def decode_v2(raw: bytes | memoryview) -> DecodedRequest:
    """Decode an uncompressed `io.prometheus.write.v2.Request`."""
    message = remote_v2_pb2.Request()
    census = views_pb2.RequestCensus()
    try:
        message.ParseFromString(raw)
        census.ParseFromString(raw)
    except DecodeError:
        raise MalformedRequest(_MALFORMED) from None
    # Per-series histogram and exemplar counts are only worth reading when the
    # request has any (Prometheus sends them only when configured to).
    detailed = bool(census.timeseries.histograms or census.timeseries.exemplars)

    symbols = message.symbols[:]
    if message.timeseries and (not symbols or symbols[0] != ""):
        raise MalformedRequest('symbols table must start with the empty string ""')
    symbol_count = len(symbols)

    series: list[DecodedSeries] = []
    total_samples = total_histograms = total_exemplars = 0
    for index, ts in enumerate(message.timeseries):
        refs = ts.labels_refs[:]
        if len(refs) % 2:
            raise MalformedRequest(
                f"timeseries[{index}] has an odd number of labels_refs; they come in pairs"
            )
        # uint32 refs cannot be negative, so only the upper bound needs checking.
        if refs and max(refs) >= symbol_count:
            raise MalformedRequest(
                f"timeseries[{index}] references a symbol beyond the symbols table "
                f"({symbol_count} entries)"
            )
        strings = [symbols[ref] for ref in refs]
        label_values = strings[1::2]
        if "" in label_values:
            name, label_names, label_values = series_labels(strings[0::2], label_values, index)
        else:
            try:
                label_names, position = name_set(tuple(strings[0::2]))
                name = metric_name(label_values[position])
            except LabelError as exc:
                raise series_error(index, exc) from None
        samples = list(map(_sample, ts.samples))
        histograms = exemplars = 0
        if detailed:
            histograms = len(ts.histograms)
            exemplars = len(ts.exemplars)
            _check_exemplar_refs(ts, index, symbol_count)
            if samples and histograms:
                raise InvalidRequest(
                    f"timeseries[{index}] ({name}) has both samples and histograms; "
                    "send them as separate series"
                )
        # The spec asks for a sample or histogram in every series, but
        # Prometheus, as in 1.0, sends exemplars in series entries of their own.
        if not (samples or histograms or exemplars):
            raise InvalidRequest(f"timeseries[{index}] ({name}) has no samples or histograms")
        series.append(
            DecodedSeries(name, label_names, label_values, samples, histograms, exemplars)
        )
        total_samples += len(samples)
        total_histograms += histograms
        total_exemplars += exemplars
    return DecodedRequest(2, series, total_samples, total_histograms, total_exemplars)


def _check_exemplar_refs(ts: remote_v2_pb2.TimeSeries, index: int, symbol_count: int) -> None:
    for exemplar in ts.exemplars:
        refs = exemplar.labels_refs
        if len(refs) % 2 or (refs and max(refs) >= symbol_count):
            raise MalformedRequest(f"timeseries[{index}] has an exemplar with invalid labels_refs")
