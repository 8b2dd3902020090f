import math
import struct

import pytest

from api.remote_write import (
    STALE_NAN,
    DecodedRequest,
    DecodedSeries,
    InvalidRequest,
    MalformedRequest,
    RemoteWriteError,
    RequestTooLarge,
    UnsupportedMediaType,
    decode,
    decode_request,
    is_stale_marker,
    remote_v1_pb2,
    remote_v2_pb2,
)
from api.remote_write.compression import decompress
from api.remote_write.decode_v1 import decode_v1, decode_v1_strict
from tests.support.remote_write_bodies import (
    V1_HEADERS,
    V2_HEADERS,
    Series,
    compress,
    livepeer_series,
    v1_body,
    v1_request,
    v2_body,
    v2_request,
)

T0 = 1_700_000_000_000
NODE = "0xabc-orch-fra-1"
SENDER = "0xC3c7c4C8f7061b7D6a72766eEe5359Fe4F36E610"
PRIVATE = "198.51.100.7"  # a label value that must never appear in an error message

BODIES = {1: v1_body, 2: v2_body}
both_versions = pytest.mark.parametrize("version", [1, 2])


def sessions(value: float = 7.0, **extra: str) -> dict[str, str]:
    return {
        "__name__": "livepeer_current_sessions_total",
        "node_id": NODE,
        "node_type": "orch",
        **extra,
    }


def tickets(sender: str = SENDER) -> dict[str, str]:
    return {
        "__name__": "livepeer_ticket_value_recv",
        "manifest_id": "stream-1",
        "node_id": NODE,
        "node_type": "orch",
        "sender": sender,
    }


def decoded(version: int, series: list[Series]) -> DecodedRequest:
    return decode(BODIES[version](series), version)


def rejection(version: int, series: list[Series]) -> RemoteWriteError:
    with pytest.raises(RemoteWriteError) as info:
        decoded(version, series)
    return info.value


# ---- exact decoding ---------------------------------------------------------


@both_versions
def test_decodes_series_labels_and_samples_exactly(version: int) -> None:
    request = decoded(
        version,
        [
            Series(sessions(), [(T0, 7.0)]),
            Series(tickets(), [(T0, 1010.29), (T0 + 15_000, 1020.5)]),
        ],
    )
    assert request == DecodedRequest(
        version=version,
        series=[
            DecodedSeries(
                name="livepeer_current_sessions_total",
                label_names=("__name__", "node_id", "node_type"),
                label_values=["livepeer_current_sessions_total", NODE, "orch"],
                samples=[(T0, 7.0)],
                histograms=0,
                exemplars=0,
            ),
            DecodedSeries(
                name="livepeer_ticket_value_recv",
                label_names=("__name__", "manifest_id", "node_id", "node_type", "sender"),
                label_values=["livepeer_ticket_value_recv", "stream-1", NODE, "orch", SENDER],
                samples=[(T0, 1010.29), (T0 + 15_000, 1020.5)],
                histograms=0,
                exemplars=0,
            ),
        ],
        samples=3,
        histograms=0,
        exemplars=0,
    )
    assert request.series[0].labels == (
        ("__name__", "livepeer_current_sessions_total"),
        ("node_id", NODE),
        ("node_type", "orch"),
    )


@both_versions
def test_zero_values_and_timestamps_survive(version: int) -> None:
    # proto3 leaves zeros off the wire; they must still decode as zeros.
    request = decoded(version, [Series(sessions(), [(T0, 0.0), (T0 + 1, -0.0), (0, 3.0)])])
    assert request.series[0].samples == [(T0, 0.0), (T0 + 1, 0.0), (0, 3.0)]
    assert request.samples == 3


@both_versions
def test_empty_request_decodes_to_no_series(version: int) -> None:
    assert decoded(version, []) == DecodedRequest(version, [], 0, 0, 0)


@both_versions
def test_label_names_are_shared_between_series(version: int) -> None:
    request = decoded(version, [Series(tickets(f"0x{i:040x}"), [(T0, float(i))]) for i in range(3)])
    first, second, third = request.series
    assert first.label_names is second.label_names is third.label_names
    assert [s.label_values[-1] for s in request.series] == [f"0x{i:040x}" for i in range(3)]


@both_versions
def test_stale_markers_are_kept(version: int) -> None:
    request = decoded(
        version,
        [Series(sessions(), [(T0, 5.0), (T0 + 15_000, STALE_NAN), (T0 + 30_000, math.nan)])],
    )
    values = [value for _, value in request.series[0].samples]
    assert [is_stale_marker(v) for v in values] == [False, True, False]
    assert struct.pack("<d", values[1]) == struct.pack("<Q", 0x7FF0000000000002)
    assert math.isnan(values[2])


@both_versions
def test_histograms_and_exemplars_are_counted_not_decoded(version: int) -> None:
    request = decoded(
        version,
        [
            Series(sessions(), [(T0, 1.0)], exemplars=[(T0, 1.0), (T0, 2.0)]),
            Series(
                {"__name__": "livepeer_transcode_time_seconds", "node_id": NODE},
                histograms=[T0, T0 + 15_000],
            ),
            # Prometheus sends each exemplar in a series entry of its own.
            Series(tickets(), exemplars=[(T0, 3.0)]),
        ],
    )
    assert [(len(s.samples), s.histograms, s.exemplars) for s in request.series] == [
        (1, 0, 2),
        (0, 2, 0),
        (0, 0, 1),
    ]
    assert (request.samples, request.histograms, request.exemplars) == (1, 2, 3)
    assert request.series[1].label_values == ["livepeer_transcode_time_seconds", NODE]


@both_versions
def test_labels_with_empty_values_are_dropped(version: int) -> None:
    # An empty value means "no such label" in the Prometheus data model.
    labels = [("__name__", "livepeer_current_sessions_total"), ("job", ""), ("node_id", NODE)]
    request = decoded(version, [Series(labels, [(T0, 1.0)]), Series(sessions(), [(T0, 2.0)])])
    assert request.series[0].label_names == ("__name__", "node_id")
    assert request.series[0].label_values == ["livepeer_current_sessions_total", NODE]
    assert request.series[1].label_values == ["livepeer_current_sessions_total", NODE, "orch"]


def test_realistic_request_decodes_the_same_in_both_versions() -> None:
    series = livepeer_series(2_000)
    v1 = decode(v1_body(series), 1)
    v2 = decode(v2_body(series), 2)
    assert v1.series == v2.series
    assert v1.samples == v2.samples == 2_000
    assert len(v1.series) == 2_000
    mil = v1.series[5]
    assert mil.name == "livepeer_mil_pixels_processed"
    assert dict(mil.labels)["client_ip"] == "198.51.100.0"


def test_v1_fast_path_matches_the_spec_message_decoding() -> None:
    series = livepeer_series(300, samples_per_series=3)
    for i, s in enumerate(series):
        if i % 3 == 0:
            s.samples = [(t, 0.0) for t, _ in s.samples]
    raw = bytes(decompress(v1_body(series), max_decompressed_bytes=1 << 24))
    assert decode_v1(raw) == decode_v1_strict(raw)


def test_v2_ignores_metadata_and_created_timestamp() -> None:
    request = v2_request([Series(sessions(), [(T0, 1.0)], extra={"created_timestamp": T0 - 5})])
    request.timeseries[0].metadata.type = remote_v2_pb2.Metadata.METRIC_TYPE_GAUGE
    request.timeseries[0].metadata.help_ref = 1
    series = decode(compress(request.SerializeToString()), 2).series
    assert series == [
        DecodedSeries(
            "livepeer_current_sessions_total",
            ("__name__", "node_id", "node_type"),
            ["livepeer_current_sessions_total", NODE, "orch"],
            [(T0, 1.0)],
            0,
            0,
        )
    ]


def test_v1_ignores_metadata() -> None:
    request = v1_request([Series(sessions(), [(T0, 1.0)])])
    request.metadata.add(
        type=remote_v1_pb2.MetricMetadata.GAUGE,
        metric_family_name="livepeer_current_sessions_total",
        help="Number of streams currently transcoding",
    )
    assert decode(compress(request.SerializeToString()), 1).samples == 1


def test_decode_request_negotiates_then_decodes() -> None:
    body = v2_body([Series(sessions(), [(T0, 1.0)])])
    request = decode_request(body, V2_HEADERS["Content-Type"], V2_HEADERS["Content-Encoding"])
    assert request.version == 2
    with pytest.raises(UnsupportedMediaType):
        decode_request(body, V1_HEADERS["Content-Type"], "gzip")


# ---- size limit -------------------------------------------------------------


@both_versions
def test_bodies_over_the_limit_are_too_large(version: int) -> None:
    body = BODIES[version](livepeer_series(2_000))
    size = len(bytes(decompress(body, max_decompressed_bytes=1 << 30)))
    assert decode(body, version, max_decompressed_bytes=size).samples == 2_000
    with pytest.raises(RequestTooLarge) as info:
        decode(body, version, max_decompressed_bytes=size - 1)
    assert info.value.status_code == 413


# ---- malformed bodies -------------------------------------------------------


@both_versions
def test_snappy_holding_no_protobuf_is_malformed(version: int) -> None:
    with pytest.raises(MalformedRequest) as info:
        decode(compress(b"\xff\xff\xff\xff"), version)
    assert info.value.status_code == 400
    assert "protobuf message" in str(info.value)


@both_versions
def test_body_that_is_not_snappy_is_malformed(version: int) -> None:
    raw = v1_request([Series(sessions(), [(T0, 1.0)])]).SerializeToString()
    with pytest.raises(MalformedRequest, match="snappy"):
        decode(raw, version)  # uncompressed protobuf


def test_v1_invalid_utf8_in_a_label_is_malformed() -> None:
    request = v1_request([Series(sessions(), [(T0, 1.0)])])
    raw = request.SerializeToString().replace(NODE.encode(), b"\xff" * len(NODE))
    with pytest.raises(MalformedRequest, match=r"prometheus\.WriteRequest"):
        decode(compress(raw), 1)


def test_v2_invalid_utf8_in_a_symbol_is_malformed() -> None:
    request = v2_request([Series(sessions(), [(T0, 1.0)])])
    raw = request.SerializeToString().replace(NODE.encode(), b"\xff" * len(NODE))
    with pytest.raises(MalformedRequest, match=r"io\.prometheus\.write\.v2\.Request"):
        decode(compress(raw), 2)


def _v2(symbols: list[str], refs: list[int], **series: object) -> bytes:
    request = remote_v2_pb2.Request(symbols=symbols)
    ts = request.timeseries.add(labels_refs=refs, **series)
    if not (ts.samples or ts.histograms or ts.exemplars):
        ts.samples.add(timestamp=T0, value=1.0)
    return compress(request.SerializeToString())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            _v2(["__name__", "up"], [0, 1]),
            'symbols table must start with the empty string ""',
        ),
        (
            _v2(["", "__name__", "up"], [1, 2, 1]),
            "timeseries[0] has an odd number of labels_refs; they come in pairs",
        ),
        (
            _v2(["", "__name__", "up"], [1, 3]),
            "timeseries[0] references a symbol beyond the symbols table (3 entries)",
        ),
        (
            _v2(
                ["", "__name__", "up", "trace_id"],
                [1, 2],
                exemplars=[remote_v2_pb2.Exemplar(labels_refs=[3, 9], value=1.0)],
            ),
            "timeseries[0] has an exemplar with invalid labels_refs",
        ),
    ],
    ids=["symbols-start", "odd-refs", "ref-out-of-range", "exemplar-refs"],
)
def test_v2_bad_symbol_references_are_malformed(body: bytes, message: str) -> None:
    with pytest.raises(MalformedRequest) as info:
        decode(body, 2)
    assert str(info.value) == message


# ---- invalid series ---------------------------------------------------------


@both_versions
@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([("node_id", PRIVATE)], "timeseries[1] has no __name__ label"),
        ([], "timeseries[1] has no labels; a metric name is required"),
        ([("__name__", "")], "timeseries[1] has no labels; a metric name is required"),
        (
            [("__name__", PRIVATE)],
            "timeseries[1] has an invalid metric name; "
            "metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*",
        ),
        (
            [("__name__", "up"), ("client.ip", PRIVATE)],
            "timeseries[1] has invalid label name 'client.ip'; "
            "label names must match [a-zA-Z_][a-zA-Z0-9_]*",
        ),
        (
            [("", PRIVATE), ("__name__", "up")],
            "timeseries[1] has an empty label name; label names must match [a-zA-Z_][a-zA-Z0-9_]*",
        ),
        (
            [("__name__", "up"), ("node_type", "orch"), ("client_ip", PRIVATE)],
            "timeseries[1] has labels not sorted by name ('node_type' before 'client_ip'); "
            "senders must sort them",
        ),
        (
            [("__name__", "up"), ("client_ip", PRIVATE), ("client_ip", PRIVATE)],
            "timeseries[1] repeats label name 'client_ip'",
        ),
    ],
)
def test_invalid_labels_are_rejected_without_echoing_values(
    version: int, labels: list[tuple[str, str]], message: str
) -> None:
    error = rejection(version, [Series(sessions(), [(T0, 1.0)]), Series(labels, [(T0, 1.0)])])
    assert isinstance(error, InvalidRequest)
    assert error.status_code == 400
    assert str(error) == message
    assert PRIVATE not in str(error)


@both_versions
def test_series_without_samples_is_invalid(version: int) -> None:
    error = rejection(version, [Series(sessions(), [(T0, 1.0)]), Series(tickets(), [])])
    assert isinstance(error, InvalidRequest)
    assert str(error).startswith("timeseries[1] (livepeer_ticket_value_recv) has no samples")
    assert SENDER not in str(error)


def test_v2_series_with_samples_and_histograms_is_invalid() -> None:
    error = rejection(2, [Series(sessions(), [(T0, 1.0)], histograms=[T0])])
    assert isinstance(error, InvalidRequest)
    assert str(error) == (
        "timeseries[0] (livepeer_current_sessions_total) has both samples and histograms; "
        "send them as separate series"
    )


def test_every_error_maps_to_its_http_status() -> None:
    assert UnsupportedMediaType("x").status_code == 415
    assert RequestTooLarge("x").status_code == 413
    assert MalformedRequest("x").status_code == 400
    assert InvalidRequest("x").status_code == 400
    assert all(
        issubclass(cls, RemoteWriteError)
        for cls in (UnsupportedMediaType, RequestTooLarge, MalformedRequest, InvalidRequest)
    )


# ---- wire format, written by hand from the specs ----------------------------
# The helpers above encode with our own .proto files, so a wrong field number
# there would go unnoticed; these bodies are built from the spec's numbers.


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _len(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _int(field: int, n: int) -> bytes:
    return _varint(field << 3) + _varint(n)


def _double(field: int, x: float) -> bytes:
    return _varint(field << 3 | 1) + struct.pack("<d", x)


def _label(name: str, value: str) -> bytes:
    return _len(1, _len(1, name.encode()) + _len(2, value.encode()))


def _refs(*refs: int) -> bytes:
    return _len(1, b"".join(map(_varint, refs)))  # packed uint32


def test_v1_wire_format_from_the_spec() -> None:
    sample = _len(2, _double(1, 2.5) + _int(2, T0))
    exemplar = _len(3, _label("trace_id", "t1") + _double(2, 1.0) + _int(3, T0))
    histogram = _len(4, _int(1, 3) + _double(3, 4.5) + _int(15, T0))
    body = (
        _len(1, _label("__name__", "up") + _label("job", "x") + sample + exemplar)
        + _len(1, _label("__name__", "h") + histogram)
        + _len(3, _int(1, 2) + _len(2, b"up") + _len(4, b"help"))  # metadata
    )
    assert decode(compress(body), 1) == DecodedRequest(
        1,
        [
            DecodedSeries("up", ("__name__", "job"), ["up", "x"], [(T0, 2.5)], 0, 1),
            DecodedSeries("h", ("__name__",), ["h"], [], 1, 0),
        ],
        1,
        1,
        1,
    )
    # Without exemplars or histograms the request takes the columns fast path.
    plain = _len(1, _label("__name__", "up") + _label("job", "x") + sample)
    assert decode(compress(plain), 1).series == [
        DecodedSeries("up", ("__name__", "job"), ["up", "x"], [(T0, 2.5)], 0, 0)
    ]


def test_v2_wire_format_from_the_spec() -> None:
    symbols = b"".join(_len(4, s) for s in (b"", b"__name__", b"up", b"job", b"x", b"h"))
    sample = _len(2, _double(1, 2.5) + _int(2, T0))
    histogram = _len(3, _int(1, 3) + _double(3, 4.5) + _int(15, T0))
    exemplar = _len(4, _refs(3, 4) + _double(2, 1.0) + _int(3, T0))
    metadata = _len(5, _int(1, 2) + _int(3, 0) + _int(4, 0))
    body = (
        symbols
        + _len(5, _refs(1, 2, 3, 4) + sample + exemplar + metadata + _int(6, T0 - 1))
        + _len(5, _refs(1, 5) + histogram)
    )
    assert decode(compress(body), 2) == DecodedRequest(
        2,
        [
            DecodedSeries("up", ("__name__", "job"), ["up", "x"], [(T0, 2.5)], 0, 1),
            DecodedSeries("h", ("__name__",), ["h"], [], 1, 0),
        ],
        1,
        1,
        1,
    )
