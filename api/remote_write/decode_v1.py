"""Decode an uncompressed remote-write 1.0 `prometheus.WriteRequest`.

The spec message costs several Python objects per series and one per label,
and building those dominates decoding. So a request is first read through
two decoding views of `views.proto`: a flat one, in which the label names,
label values and samples of all series arrive as three request-wide lists
(plus exemplar and histogram totals), and one that counts each series' label
and sample entries, by which the lists are cut into series. Only when the
counts show the label columns may not pair up (some label has an empty name
or value) or exemplars or histograms need counting per series is the request
read through the spec message instead. Requests from Prometheus take the
fast path.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate, chain, repeat
from operator import attrgetter, getitem, itemgetter
from typing import NoReturn

from google.protobuf.message import DecodeError

from api.remote_write import remote_v1_pb2, views_pb2
from api.remote_write.errors import InvalidRequest, MalformedRequest
from api.remote_write.labels import LabelError, metric_name, name_set, series_error, series_labels
from api.remote_write.model import DecodedRequest, DecodedSeries

_MALFORMED = "body is not a valid prometheus.WriteRequest protobuf message"
_sample = attrgetter("timestamp", "value")
_label = attrgetter("name", "value")
_labels = attrgetter("labels")
_samples = attrgetter("samples")
_label_names = itemgetter(0)
_position = itemgetter(1)
# `DecodedSeries(...)` runs the NamedTuple's Python-level `__new__`; building
# the tuple directly skips that frame, measurable at ~2,000 series a request.
_new_series = tuple.__new__


def decode_v1(raw: bytes | memoryview) -> DecodedRequest:
    """Decode an uncompressed `prometheus.WriteRequest`."""
    flat = views_pb2.WriteRequestFlat()
    counts = views_pb2.WriteRequestCounts()
    try:
        # The flat parse also checks that label contents are UTF-8 strings.
        flat.ParseFromString(raw)
        counts.ParseFromString(raw)
    except DecodeError:
        raise MalformedRequest(_MALFORMED) from None
    merged = flat.timeseries
    if merged.histograms or merged.exemplars:
        return decode_v1_strict(raw)
    # Sliced so both passes below share one Python wrapper per series.
    series_counts = counts.timeseries[:]
    label_counts = list(map(len, map(_labels, series_counts)))
    sample_counts = list(map(len, map(_samples, series_counts)))
    # A tuple, so that slicing it gives each series' `name_set` key directly.
    all_names = tuple(merged.labels.names[:])
    all_values = merged.labels.values[:]
    # A label entry adds at most one name and one value to the columns
    # (encoders never repeat a field within a message), so equal totals mean
    # every label has both, and names and values pair up by position.
    label_entries = sum(label_counts)
    if len(all_names) != label_entries or len(all_values) != label_entries:
        return decode_v1_strict(raw)
    all_samples = list(map(_sample, merged.samples))

    # Series are cut out of the flat lists and built with `map` rather than a
    # Python loop: at ~2,000 series a request the loop's bytecode was most of
    # the cost. Any invalid series sends the request to `_reject`, which walks
    # the series one by one to name the first bad one exactly.
    label_ends = list(accumulate(label_counts))
    label_slices = list(map(slice, chain((0,), label_ends), label_ends))
    label_values = list(map(all_values.__getitem__, label_slices))
    try:
        name_sets = list(map(name_set, map(all_names.__getitem__, label_slices)))
        names = list(map(metric_name, map(getitem, label_values, map(_position, name_sets))))
    except LabelError:
        _reject(all_names, all_values, label_counts, sample_counts)
    if 0 in sample_counts:
        _reject(all_names, all_values, label_counts, sample_counts)
    if len(all_samples) == len(sample_counts):
        # No series without samples and as many samples as series: one each,
        # the usual case (Prometheus sends ~2,000 series of one sample).
        series_samples = map(list, zip(all_samples))
    else:
        sample_ends = list(accumulate(sample_counts))
        sample_slices = map(slice, chain((0,), sample_ends), sample_ends)
        series_samples = map(all_samples.__getitem__, sample_slices)
    series = list(
        map(
            _new_series,
            repeat(DecodedSeries),
            zip(
                names,
                map(_label_names, name_sets),
                label_values,
                series_samples,
                repeat(0),
                repeat(0),
            ),
        )
    )
    return DecodedRequest(1, series, len(all_samples), 0, 0)


def _reject(
    all_names: Sequence[str],
    all_values: Sequence[str],
    label_counts: list[int],
    sample_counts: list[int],
) -> NoReturn:
    """Raise the error for the first invalid series of a flat-decoded request."""
    label_end = 0
    for index, (label_count, sample_count) in enumerate(
        zip(label_counts, sample_counts, strict=True)
    ):
        label_start = label_end
        label_end += label_count
        try:
            _, position = name_set(tuple(all_names[label_start:label_end]))
            name = metric_name(all_values[label_start:label_end][position])
        except LabelError as exc:
            raise series_error(index, exc) from None
        if not sample_count:
            raise InvalidRequest(f"timeseries[{index}] ({name}) has no samples")
    raise AssertionError("_reject called for a valid request")


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
