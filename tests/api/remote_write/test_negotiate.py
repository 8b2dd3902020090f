import pytest

from api.remote_write import UnsupportedMediaType, negotiate


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/x-protobuf", 1),
        ("application/x-protobuf;proto=prometheus.WriteRequest", 1),
        ("application/x-protobuf;proto=io.prometheus.write.v2.Request", 2),
        # RFC 9110: case-insensitive type and parameter name, optional spaces, quoting.
        ("Application/X-Protobuf ; Proto=io.prometheus.write.v2.Request", 2),
        ('application/x-protobuf;proto="io.prometheus.write.v2.Request"', 2),
        ("application/x-protobuf; charset=binary", 1),
    ],
)
def test_accepts_the_spec_content_types(content_type: str, expected: int) -> None:
    assert negotiate(content_type, "snappy") == expected


def test_encoding_is_case_insensitive() -> None:
    assert negotiate("application/x-protobuf", " Snappy ") == 1


@pytest.mark.parametrize("encoding", [None, "", "gzip", "zstd", "snappy, gzip", "identity"])
def test_rejects_other_encodings(encoding: str | None) -> None:
    with pytest.raises(UnsupportedMediaType) as info:
        negotiate("application/x-protobuf", encoding)
    assert info.value.status_code == 415
    assert "Content-Encoding must be 'snappy'" in str(info.value)


@pytest.mark.parametrize(
    ("content_type", "complaint"),
    [
        (None, "Content-Type is missing"),
        ("", "Content-Type is missing"),
        ("application/json", "is not supported"),
        ("application/protobuf", "is not supported"),
        ("application/x-protobuf;proto=io.prometheus.write.v3.Request", "is not supported"),
        ("application/x-protobuf;proto=", "is not supported"),
        ("application/x-protobuf;proto", "not of the form name=value"),
    ],
)
def test_rejects_other_content_types(content_type: str | None, complaint: str) -> None:
    with pytest.raises(UnsupportedMediaType) as info:
        negotiate(content_type, "snappy")
    assert info.value.status_code == 415
    assert complaint in str(info.value)


def test_echoed_header_values_are_bounded() -> None:
    with pytest.raises(UnsupportedMediaType) as info:
        negotiate("text/" + "x" * 10_000, "snappy")
    assert len(str(info.value)) < 300
