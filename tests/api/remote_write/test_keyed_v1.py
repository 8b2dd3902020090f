"""Series keys and samples read from bytes (``keyed_v1``): what the split finds, and the
condition under which a key may be learned, against the spec message."""

from __future__ import annotations

import struct

from google.protobuf.message import DecodeError
from hypothesis import event, given, settings
from hypothesis import strategies as st

from api.remote_write import STALE_NAN, remote_v1_pb2
from api.remote_write.decode_v1 import decode_v1
from api.remote_write.keyed_v1 import labels_key, split_v1
from tests.fuzz.conftest import examples
from tests.fuzz.protowire import FIXED64, LENGTH, VARINT, field, varint
from tests.support.remote_write_bodies import Series, livepeer_series, v1_request

T0 = 1_800_000_000_000
UP = {"__name__": "up", "job": "livepeer", "instance": "orch-fra-1:7935"}


def _bits(value: float) -> bytes:
    return struct.pack("<d", value)


def labels_bytes(labels: dict[str, str]) -> bytes:
    return b"".join(
        field(1, LENGTH, field(1, LENGTH, n.encode()) + field(2, LENGTH, v.encode()))
        for n, v in sorted(labels.items())
    )


def sample_bytes(timestamp: int, value: float) -> bytes:
    out = field(1, FIXED64, _bits(value)) if _bits(value) != bytes(8) else b""
    # int64 on the wire: a negative timestamp is its 64-bit two's complement.
    return out + (field(2, VARINT, varint(timestamp % 2**64)) if timestamp else b"")


def request_of(*series: bytes) -> bytes:
    return b"".join(field(1, LENGTH, s) for s in series)


def test_prometheus_series_split_into_label_bytes_and_samples() -> None:
    series = livepeer_series(50, timestamp_ms=T0)
    series[3].samples = [(T0, 0.0)]  # a 0.0 value is left off the wire
    series[4].samples = [(T0, STALE_NAN)]
    raw = v1_request(series).SerializeToString()
    split = split_v1(raw)
    assert split is not None and split.complete
    decoded = decode_v1(raw)
    assert [labels_bytes(dict(s.labels)) for s in decoded.series] == split.keys
    assert [
        (t, _bits(v)) for t, v in zip(split.timestamps.tolist(), split.values, strict=True)
    ] == [(t, _bits(v)) for s in decoded.series for t, v in s.samples]


def test_series_whose_end_is_no_sample_get_no_key() -> None:
    labels = labels_bytes(UP)
    raw = request_of(
        labels + field(2, LENGTH, sample_bytes(T0, 1.0)),  # a sample: keyed
        labels + field(2, LENGTH, sample_bytes(T0 % 2**30, 1.0)),  # timestamp of 5 bytes
        labels + field(2, LENGTH, sample_bytes(0, 1.0)),  # no timestamp
        labels + field(2, LENGTH, sample_bytes(T0, 1.0)) + field(5, VARINT, b"\x01"),
        labels,  # no sample
    )
    split = split_v1(raw)
    assert split is not None
    assert split.keys == [labels, b"", b"", b"", b""]
    assert not split.complete


def test_malformed_or_tiny_requests_are_left_to_decode_v1() -> None:
    assert split_v1(b"\x0a\x05\x01") is None
    assert split_v1(request_of(b"\x12\x00")) is None
    empty = split_v1(b"")
    assert empty is not None and empty.keys == [] and empty.complete


def test_a_key_is_learnable_only_as_canonical_labels_equal_to_the_decoded_ones() -> None:
    names, values = tuple(sorted(UP)), [UP[n] for n in sorted(UP)]
    key = labels_bytes(UP)
    assert labels_key(key, names, values)
    assert not labels_key(key, names, [*values[:-1], "other"])
    assert not labels_key(key[: len(key) - 3], names, values)  # cut inside a field
    unknown = key + field(7, VARINT, b"\x01")
    assert not labels_key(unknown, names, values)
    with_sample = key + field(2, LENGTH, sample_bytes(T0, 1.0))
    assert not labels_key(with_sample, names, values)
    value_first = b"".join(
        field(1, LENGTH, field(2, LENGTH, UP[n].encode()) + field(1, LENGTH, n.encode()))
        for n in names
    )
    assert not labels_key(value_first, names, values)
    empty_value = key + field(1, LENGTH, field(1, LENGTH, b"zone") + field(2, LENGTH, b""))
    assert not labels_key(empty_value, (*names, "zone"), [*values, ""])
    no_value = key + field(1, LENGTH, field(1, LENGTH, b"zone"))
    assert not labels_key(no_value, (*names, "zone"), [*values, ""])
    assert not labels_key(b"", (), [])


# Series as any sender might encode them: canonical labels, then any fields at all
# (samples in any encoding, exemplars, unknown fields), often a sample's encoding, often
# something close to one.
_timestamps = st.one_of(st.integers(2**35, 2**42 - 1), st.integers(-(2**63), 2**63 - 1))
_values = st.one_of(st.floats(allow_nan=True), st.just(STALE_NAN), st.just(0.0))
_samples = st.builds(sample_bytes, _timestamps, _values)
_fields = st.one_of(
    st.builds(lambda s: field(2, LENGTH, s), _samples),
    st.builds(lambda b: field(2, LENGTH, b), st.binary(max_size=20)),
    st.builds(lambda n, b: field(n, LENGTH, b), st.integers(1, 6), st.binary(max_size=20)),
    st.builds(
        lambda n, v: field(n, VARINT, varint(v)), st.integers(1, 6), st.integers(0, 2**64 - 1)
    ),
    st.builds(
        lambda n, b: field(n, FIXED64, b), st.integers(1, 6), st.binary(min_size=8, max_size=8)
    ),
)
_label_sets = st.dictionaries(
    st.from_regex(r"[a-z_]{1,6}", fullmatch=True), st.text(min_size=1, max_size=6), max_size=3
).map(lambda labels: {**labels, "__name__": "up"})


@settings(max_examples=examples(300))
@given(
    labels=_label_sets,
    rest=st.one_of(
        st.tuples(_samples.map(lambda s: field(2, LENGTH, s))), st.lists(_fields, max_size=3)
    ),
    cut=st.sampled_from([0, 0, 0, 1, 2, 9]),
)
def test_a_learnable_key_means_exactly_its_labels_and_the_split_sample(
    labels: dict[str, str], rest: list[bytes], cut: int
) -> None:
    """The correctness argument of keyed_v1, checked against the spec message: whenever
    the split's key would be learnable, the series is those labels and one sample, the
    one the split decoded."""
    series = labels_bytes(labels) + b"".join(rest)
    if cut:
        series = series[:-cut] or series
    split = split_v1(request_of(series))
    if split is None or not split.keys[0]:
        return
    key = split.keys[0]
    parsed = remote_v1_pb2.TimeSeries()
    try:
        parsed.ParseFromString(key)
    except DecodeError:
        assert not labels_key(key, (), [])
        return
    names = tuple(label.name for label in parsed.labels)
    values = [label.value for label in parsed.labels]
    if not labels_key(key, names, values):
        return
    spec = remote_v1_pb2.TimeSeries()
    spec.ParseFromString(series)
    assert [(label.name, label.value) for label in spec.labels] == list(
        zip(names, values, strict=True)
    )
    assert not spec.exemplars and not spec.histograms
    assert [(s.timestamp, _bits(s.value)) for s in spec.samples] == [
        (split.timestamps.tolist()[0], _bits(split.values[0]))
    ]
    assert spec.SerializeToString(deterministic=True) == series  # nothing else in it
    event("learnable")


def test_a_zero_sample_series_next_to_a_two_sample_one_gets_no_known_key() -> None:
    first = labels_bytes(UP)
    second = labels_bytes({**UP, "job": "other"})
    raw = request_of(
        first,
        second + field(2, LENGTH, sample_bytes(T0, 1.0)) + field(2, LENGTH, sample_bytes(T0, 2)),
    )
    split = split_v1(raw)
    assert split is not None
    # The second series' cut leaves one sample in its "key": never a list of labels.
    assert split.keys[0] == b"" and split.keys[1] != second
    names = tuple(sorted(UP))
    assert not labels_key(split.keys[1], names, [UP[n] for n in names])


def test_series_shapes_round_trip_through_the_request_builder() -> None:
    raw = v1_request([Series(UP, [(T0, 3.5)])]).SerializeToString()
    assert raw == request_of(labels_bytes(UP) + field(2, LENGTH, sample_bytes(T0, 3.5)))
