"""Property and fuzz tests of the remote-write codec (``api.remote_write``): valid
requests round-trip exactly in both versions, and nothing else — random bytes, random
protobuf, damaged real messages, damaged snappy — gets anything but a
``RemoteWriteError`` (400/413), never an unexpected exception."""

from __future__ import annotations

import struct

import cramjam
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from api.remote_write import (
    STALE_NAN,
    RemoteWriteError,
    RequestTooLarge,
    decode,
    decode_v1,
    decode_v2,
)
from api.remote_write.compression import decompress
from api.remote_write.decode_v1 import decode_v1_strict
from api.remote_write.keyed_v1 import labels_key, split_v1
from api.remote_write.labels import _LABEL_NAME_RE, _METRIC_NAME_RE
from api.remote_write.model import DecodedRequest
from tests.fuzz.conftest import examples
from tests.fuzz.protowire import LENGTH, field, messages, mutated, varint
from tests.support.remote_write_bodies import Series, compress, v1_request, v2_request

VERSIONS = [1, 2]
DECODERS = {1: decode_v1, 2: decode_v2}

# Mostly names Prometheus really sends (cheap to draw), sometimes any valid name.
metric_names = st.one_of(
    st.sampled_from(["up", "livepeer_current_sessions_total", "a:b_c", "_x", "Z9"]),
    st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,12}", fullmatch=True),
)
label_names = st.one_of(
    st.sampled_from(["job", "instance", "node_id", "sender", "client_ip", "a", "_", "Zz9"]),
    st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,8}", fullmatch=True).filter(lambda n: n != "__name__"),
)
label_values = st.one_of(
    st.sampled_from(["livepeer", "orch-fra-1:7935", "198.51.100.7", "0xabc"]),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=12),
)
samples = st.tuples(
    st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True, allow_infinity=True)
)


@st.composite
def valid_series(draw: st.DrawFn) -> Series:
    labels = draw(st.dictionaries(label_names, label_values, max_size=4))
    labels["__name__"] = draw(metric_names)
    return Series(labels, draw(st.lists(samples, min_size=1, max_size=3)))


valid_requests = st.lists(valid_series(), max_size=6)


def raw(version: int, series: list[Series]) -> bytes:
    request = v1_request(series) if version == 1 else v2_request(series)
    return request.SerializeToString()


def _bits(value: float) -> bytes:
    return struct.pack("<d", value)  # NaN payloads (stale markers) compared exactly


def _as_sent(series: list[Series]) -> list[tuple]:
    return [
        (
            s.labels["__name__"],
            tuple(sorted(s.labels.items())),
            [(t, _bits(v)) for t, v in s.samples],
        )
        for s in series
    ]


def _as_decoded(request: DecodedRequest) -> list[tuple]:
    return [(s.name, s.labels, [(t, _bits(v)) for t, v in s.samples]) for s in request.series]


def _check_invariants(request: DecodedRequest) -> None:
    """What the rest of ingest relies on in every decoded request."""
    assert request.samples == sum(len(s.samples) for s in request.series)
    for s in request.series:
        assert _METRIC_NAME_RE.fullmatch(s.name)
        assert list(s.label_names) == sorted(set(s.label_names))
        assert all(_LABEL_NAME_RE.fullmatch(n) for n in s.label_names)
        assert "" not in s.label_values
        assert len(s.label_names) == len(s.label_values)
        assert dict(s.labels)["__name__"] == s.name
        assert s.samples or s.histograms or s.exemplars
        for timestamp, value in s.samples:
            assert isinstance(timestamp, int) and isinstance(value, float)


def _decode_or_refuse(body: bytes, version: int, limit: int = 1 << 20) -> DecodedRequest | None:
    try:
        decoded = decode(body, version, max_decompressed_bytes=limit)
    except RemoteWriteError as exc:
        assert exc.status_code in (400, 413)
        assert exc.message and "Traceback" not in exc.message
        return None
    _check_invariants(decoded)
    return decoded


@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=examples(60))
@given(series=valid_requests)
def test_valid_requests_round_trip(version: int, series: list[Series]) -> None:
    decoded = decode(compress(raw(version, series)), version)
    _check_invariants(decoded)
    assert decoded.version == version
    assert _as_decoded(decoded) == _as_sent(series)


@settings(max_examples=examples(40))
@given(series=valid_requests)
def test_both_versions_decode_a_request_alike(series: list[Series]) -> None:
    assert _as_decoded(decode_v1(raw(1, series))) == _as_decoded(decode_v2(raw(2, series)))


@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=examples(100))
@given(body=st.binary(max_size=256))
def test_random_bodies_are_refused_cleanly(version: int, body: bytes) -> None:
    _decode_or_refuse(body, version)
    _decode_or_refuse(compress(body), version)


@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=examples(100))
@given(message=messages)
def test_random_protobuf_is_decoded_or_refused_cleanly(version: int, message: bytes) -> None:
    _decode_or_refuse(compress(message), version)


# Top-level fields other than timeseries (metadata) the fast path skips unread, so a
# malformed metadata entry is refused only by the spec message: harmless, as metadata
# is ignored either way. Compared are messages of timeseries only.
timeseries_only = st.lists(st.builds(lambda m: field(1, LENGTH, m), messages), max_size=4).map(
    b"".join
)


@settings(max_examples=examples(100))
@given(message=timeseries_only)
def test_v1_fast_path_agrees_with_the_spec_message(message: bytes) -> None:
    """The flat-view decoding must mean exactly what the spec message means."""
    outcomes = []
    for decoder in (decode_v1, decode_v1_strict):
        try:
            outcomes.append(_as_decoded(decoder(message)))
        except RemoteWriteError as exc:
            outcomes.append(type(exc).__name__)
    assert outcomes[0] == outcomes[1]


# Prometheus-like series (timestamps of its era, one sample each, often 0.0 or a stale
# marker), so that the known-series split finds keys to check.
prometheus_series = st.builds(
    lambda labels, name, at, value: Series({**labels, "__name__": name}, [(at, value)]),
    st.dictionaries(label_names, label_values, max_size=3),
    metric_names,
    st.integers(2**35, 2**42 - 1),
    st.one_of(samples.map(lambda s: s[1]), st.sampled_from([0.0, -0.0, STALE_NAN])),
)


@settings(max_examples=examples(100))
@given(data=st.data(), series=st.lists(prometheus_series, min_size=1, max_size=5))
def test_learnable_keys_mean_what_decode_v1_decodes(
    data: st.DataObject, series: list[Series]
) -> None:
    """Whatever the body (valid or damaged), a series whose split key is learnable from
    decode_v1's reading of it has exactly the one sample the split decoded."""
    body = raw(1, series)
    if data.draw(st.booleans()):
        body = data.draw(mutated(body))
    try:
        decoded = decode_v1(body)
    except RemoteWriteError:
        return
    split = split_v1(body)
    if split is None:
        return
    assert len(split.keys) == len(decoded.series)
    timestamps = split.timestamps.tolist()
    for key, s, at, value in zip(split.keys, decoded.series, timestamps, split.values, strict=True):
        if labels_key(key, s.label_names, s.label_values):
            assert [(t, _bits(v)) for t, v in s.samples] == [(at, _bits(value))]
            assert s.histograms == s.exemplars == 0
            event("a learnable key")


@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=examples(80))
@given(data=st.data(), series=valid_requests)
def test_damaged_messages_are_decoded_or_refused_cleanly(
    version: int, data: st.DataObject, series: list[Series]
) -> None:
    damaged = data.draw(mutated(raw(version, series)))
    _decode_or_refuse(compress(damaged), version)


@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=examples(50))
@given(data=st.data(), series=valid_requests)
def test_damaged_snappy_is_refused_cleanly(
    version: int, data: st.DataObject, series: list[Series]
) -> None:
    damaged = data.draw(mutated(compress(raw(version, series))))
    _decode_or_refuse(damaged, version)


@settings(max_examples=examples(60))
@given(payload=st.binary(max_size=4096), limit=st.integers(0, 8192))
def test_the_snappy_guard_holds_the_limit(payload: bytes, limit: int) -> None:
    body = compress(payload)
    if len(payload) > limit:
        with pytest.raises(RequestTooLarge):
            decompress(body, max_decompressed_bytes=limit)
    else:
        assert bytes(decompress(body, max_decompressed_bytes=limit)) == payload


@settings(max_examples=examples(40))
@given(claimed=st.integers(2**20 + 1, 2**32 - 1), tail=st.binary(max_size=64))
def test_a_bomb_is_refused_from_its_header_alone(claimed: int, tail: bytes) -> None:
    """A body claiming more than the limit is refused before anything is allocated."""
    with pytest.raises(RequestTooLarge):
        decompress(varint(claimed) + tail, max_decompressed_bytes=2**20)


def test_the_framed_format_is_named() -> None:
    framed = bytes(cramjam.snappy.compress(b"\x0a\x00"))
    with pytest.raises(RemoteWriteError, match="framed"):
        decode(framed, 1)
