"""Requests of known series (``known``) give the batch today's path gives: the same
chunks, series, drops and status inputs, the same errors, for any body."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from api.geo.locate import Geolocator
from api.ingest import catalog as catalog_module
from api.ingest.batch import Batch, prepare
from api.ingest.catalog import Catalog
from api.ingest.known import _batch_of_known, batch, receive
from api.remote_write import STALE_NAN, RemoteWriteError, decode_v1
from tests.fuzz.conftest import examples
from tests.fuzz.protowire import LENGTH, VARINT, field, mutated, varint
from tests.support.remote_write_bodies import Series, livepeer_series, v1_request

ORCH = "0x" + "5" * 40
M = 1_800_000_000_000 // 60_000 * 60_000  # a whole minute
WINDOW = {"oldest_ms": M - 3_600_000, "newest_ms": M + 600_000}
Outcome = Batch | tuple[str, str]


@pytest.fixture
def geolocator(geoip_db: Path) -> Geolocator:
    return Geolocator(geoip_db)


class Pair:
    """Today's path and the known-series path, each with its own catalog."""

    def __init__(self, geolocator: Geolocator) -> None:
        self.today = Catalog(b"secret", geolocator)
        self.known = Catalog(b"secret", geolocator)

    def both(self, raw: bytes, shared: frozenset[str] = frozenset()) -> tuple[Outcome, bool]:
        """Both outcomes, checked equal; and whether the request was taken as known."""
        try:
            expected: Outcome = prepare(decode_v1(raw), ORCH, shared, self.today, **WINDOW)
        except RemoteWriteError as exc:
            expected = (type(exc).__name__, exc.message)
        fast = False
        try:
            received = receive(raw, 1, self.known, ORCH)
            fast = received.known is not None
            got: Outcome = batch(received, ORCH, shared, self.known, **WINDOW)
        except RemoteWriteError as exc:
            got = (type(exc).__name__, exc.message)
        assert comparable(got) == comparable(expected)
        return got, fast


def _bits(value: float | None) -> bytes | None:
    return None if value is None else struct.pack("<d", value)  # NaN == NaN, by bits


def comparable(outcome: Outcome) -> object:
    """``outcome`` with floats as their bits (NaNs compare unequal to themselves)."""
    if not isinstance(outcome, Batch):
        return outcome
    return (
        [
            (c.node_name, c.minute_ms, c.gauges, c.infos, c.offsets, list(map(_bits, c.values)))
            for c in outcome.chunks
        ],
        outcome.series,
        outcome.received,
        outcome.dropped,
        [
            (reason, s._replace(samples=[(t, _bits(v)) for t, v in s.samples]))
            for reason, s in outcome.dropped_series
        ],
    )


def raw_of(series: list[Series]) -> bytes:
    return v1_request(series).SerializeToString()


def scrape(count: int = 120, at: int = M + 15_000, node: str = "node-a") -> list[Series]:
    series = livepeer_series(count, timestamp_ms=at, node_id=node)
    series += [
        Series({"__name__": "go_goroutines", "job": "livepeer"}, [(at, 41.0)]),
        Series({"__name__": "livepeer_tickets_recv", "job": "x"}, [(at, 1.0)]),  # no node
        Series(
            {"__name__": "node_network_receive_bytes_total", "device": "lo", "node_id": node},
            [(at, 9.0)],
        ),
        Series({"__name__": "livepeer_value_redeemed", "node_id": node}, [(at, 3.0)]),
    ]
    return series


def with_values(series: list[Series], value) -> list[Series]:
    return [
        Series(s.labels, [(t, value(i, v)) for t, v in s.samples]) for i, s in enumerate(series)
    ]


def test_a_known_request_gives_todays_batch(geolocator: Geolocator) -> None:
    pair = Pair(geolocator)
    allowlisted = livepeer_series(200, timestamp_ms=M + 15_000)
    first, fast = pair.both(raw_of(allowlisted))
    assert not fast and isinstance(first, Batch) and first.stored == 200
    raw = raw_of(with_values(allowlisted, lambda i, v: v + i % 3))
    second, fast = pair.both(raw)
    assert fast and isinstance(second, Batch) and second.stored == 200
    received = receive(raw, 1, pair.known, ORCH)
    assert received.known is not None and received.split is not None
    columns = _batch_of_known(received.known, received.split, frozenset(), **WINDOW)
    assert comparable(columns) == comparable(second)  # by columns, not via prepare
    assert [len(c.offsets) for c in second.chunks] == [2, 198]  # gauges, counters


def test_drops_and_sharing_are_todays_on_every_request(geolocator: Geolocator) -> None:
    pair = Pair(geolocator)
    series = scrape()
    pair.both(raw_of(series))
    for shared in (frozenset(), frozenset({"livepeer_value_redeemed"}), frozenset()):
        got, fast = pair.both(raw_of(series), shared)
        assert fast and isinstance(got, Batch)
        assert got.dropped["not_shared"] == (0 if shared else 1)
        assert {reason for reason, _ in got.dropped_series} >= {
            "not_allowlisted",
            "no_node_id",
            "loopback_device",
        }


@pytest.mark.parametrize(
    "value",
    [STALE_NAN, float("nan"), float("inf"), 0.0, -0.0, 1e308],
    ids=["stale", "nan", "inf", "zero", "negative-zero", "huge"],
)
def test_special_values_are_todays(geolocator: Geolocator, value: float) -> None:
    pair = Pair(geolocator)
    series = scrape(40)
    pair.both(raw_of(series))
    got, fast = pair.both(raw_of(with_values(series, lambda i, v: value if i % 3 else v)))
    assert fast and isinstance(got, Batch)


@pytest.mark.parametrize("at", [M - 7_200_000, M + 3_600_000], ids=["too-old", "ahead"])
def test_timestamps_out_of_range_name_the_metric_as_today(geolocator: Geolocator, at: int) -> None:
    pair = Pair(geolocator)
    pair.both(raw_of(scrape(40)))
    got, fast = pair.both(raw_of(scrape(40, at=at)))
    assert fast and got[0] == "InvalidRequest" and "livepeer_current_sessions_total" in got[1]


def by_columns(pair: Pair, raw: bytes) -> bool:
    """Whether ``raw`` is batched by columns (rather than rebuilt for ``prepare``)."""
    received = receive(raw, 1, pair.known, ORCH)
    assert received.known is not None and received.split is not None
    return _batch_of_known(received.known, received.split, frozenset(), **WINDOW) is not None


def test_minutes_nodes_and_repeated_series_are_todays(geolocator: Geolocator) -> None:
    pair = Pair(geolocator)
    many = [s for n in range(12) for s in livepeer_series(6, timestamp_ms=M, node_id=f"n{n}")]
    two_minutes = livepeer_series(30, timestamp_ms=M + 50_000)
    two_minutes += livepeer_series(30, timestamp_ms=M + 65_000)
    twice = livepeer_series(10, timestamp_ms=M) * 2
    for items, columns in ((many, False), (two_minutes, True), (twice, True)):
        pair.both(raw_of(items))
        raw = raw_of(with_values(items, lambda i, v: v * 2))
        got, fast = pair.both(raw)
        assert fast and isinstance(got, Batch)
        assert by_columns(pair, raw) == columns


def test_a_known_key_stores_each_requests_sample(geolocator: Geolocator) -> None:
    pair = Pair(geolocator)
    labels = {"__name__": "livepeer_tickets_recv", "node_id": "a", "sender": "0xabc"}
    for k in range(4):
        got, fast = pair.both(raw_of([Series(labels, [(M + k * 1000, 10.0 + k)])]))
        assert fast == (k > 0) and isinstance(got, Batch)
        assert [(c.offsets, c.values) for c in got.chunks] == [([k * 1000], [10.0 + k])]


# Bodies whose series end with bytes that look like a sample while their structure is
# something else: each must be read exactly as today once its labels are known.
UP = {"__name__": "livepeer_tickets_recv", "node_id": "a", "sender": "0xabc"}


def labels_bytes(labels: dict[str, str], value_first: bool = False) -> bytes:
    out = b""
    for name, value in sorted(labels.items()):
        parts = [field(1, LENGTH, name.encode()), field(2, LENGTH, value.encode())]
        out += field(1, LENGTH, b"".join(reversed(parts) if value_first else parts))
    return out


def sample(at: int, value: bytes = b"\x00\x00\x00\x00\x00\x00\xf0\x3f") -> bytes:
    return b"\x09" + value + field(2, VARINT, varint(at))


def request_of(*series: bytes) -> bytes:
    return b"".join(field(1, LENGTH, s) for s in series)


# A label value whose UTF-8 ends in 12 07 10 and a 6-byte varint: the end of a series of
# labels alone matches a sample's encoding (shape B), cutting inside the label.
LOOKALIKE = {**UP, "zone": "x\x12\x07\x10\u0800\u0080\x05"}

CRAFTED = {
    "label-ends-like-a-sample": request_of(labels_bytes(LOOKALIKE)),
    "label-ends-like-a-sample-then-a-sample": request_of(
        labels_bytes(LOOKALIKE), labels_bytes(LOOKALIKE) + field(2, LENGTH, sample(M))
    ),
    "sample-first": request_of(field(2, LENGTH, sample(M)) + labels_bytes(UP)),
    "none-then-two": request_of(
        labels_bytes(UP),
        labels_bytes({**UP, "sender": "0xdef"})
        + field(2, LENGTH, sample(M))
        + field(2, LENGTH, sample(M + 1)),
    ),
    "unknown-field": request_of(
        labels_bytes(UP) + field(9, VARINT, b"\x01") + field(2, LENGTH, sample(M))
    ),
    "unknown-in-sample": request_of(
        labels_bytes(UP) + field(2, LENGTH, field(7, VARINT, b"\x01") + sample(M))
    ),
    "value-before-name": request_of(
        labels_bytes(UP, value_first=True) + field(2, LENGTH, sample(M))
    ),
    "sample-then-labels-then-sample": request_of(
        field(2, LENGTH, sample(M)) + labels_bytes(UP) + field(2, LENGTH, sample(M + 1))
    ),
    "exemplar": request_of(labels_bytes(UP) + field(3, LENGTH, b"") + field(2, LENGTH, sample(M))),
    "empty-value": request_of(
        labels_bytes(UP)
        + field(1, LENGTH, field(1, LENGTH, b"zone") + field(2, LENGTH, b""))
        + field(2, LENGTH, sample(M))
    ),
}


@pytest.mark.parametrize("name", list(CRAFTED))
def test_crafted_bodies_are_read_as_today(geolocator: Geolocator, name: str) -> None:
    assert labels_bytes(LOOKALIKE)[-9:].startswith(b"\x12\x07\x10")
    pair = Pair(geolocator)
    plain = [
        Series(UP, [(M, 1.0)]),
        Series({**UP, "sender": "0xdef"}, [(M, 2.0)]),
        Series({**UP, "zone": "x"}, [(M, 2.0)]),
        Series(LOOKALIKE, [(M, 3.0)]),
    ]
    pair.both(raw_of(plain))
    assert pair.both(raw_of(plain))[1]  # all known now
    for _ in range(2):  # read once, maybe learned from; read again
        pair.both(CRAFTED[name])


def test_unlisted_keys_are_bounded_per_orchestrator(
    geolocator: Geolocator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_module, "MAX_UNLISTED_PER_ORCHESTRATOR", 5)
    pair = Pair(geolocator)
    junk = [Series({"__name__": f"junk_{i}", "job": "x"}, [(M, 1.0)]) for i in range(8)]
    pair.both(raw_of(junk[:5]))
    assert pair.both(raw_of(junk[:5]))[1]
    pair.both(raw_of(junk))
    assert not pair.both(raw_of(junk))[1]  # three never cached: read the full way
    assert len(pair.known.known_bytes(ORCH)) == 5


def test_eviction_and_forget_reach_byte_keys(geolocator: Geolocator) -> None:
    catalog = Catalog(b"secret", geolocator, max_entries=50)
    items = livepeer_series(20, timestamp_ms=M)
    for _ in range(2):
        batch(receive(raw_of(items), 1, catalog, ORCH), ORCH, frozenset(), catalog, **WINDOW)
    received = receive(raw_of(items), 1, catalog, ORCH)
    assert received.known is not None
    known = batch(received, ORCH, frozenset(), catalog, **WINDOW)
    for info in known.series:
        info.series_id = info.node_id = 1
    catalog.forget(ORCH)
    assert all(info.series_id is None for info in known.series)
    other = livepeer_series(20, timestamp_ms=M, node_id="other")
    batch(receive(raw_of(other), 1, catalog, ORCH), ORCH, frozenset(), catalog, **WINDOW)
    assert receive(raw_of(items), 1, catalog, ORCH).known is None  # evicted: 20 + 20 + 20 > 50


# Requests drawn from a pool of series, so that later requests are known: samples of
# every kind, series missing or repeated, sharing changing between requests.
POOL = scrape(16) + scrape(4, node="node-b")
_values = st.one_of(
    st.floats(-1e6, 1e6),
    st.sampled_from([0.0, -0.0, STALE_NAN, float("nan"), float("inf"), 1e308]),
)
_times = st.one_of(st.integers(M - 120_000, M + 120_000), st.sampled_from([M, 0, M * 3]))
_sample = st.tuples(_times, _values)


@st.composite
def _request(draw: st.DrawFn) -> list[tuple[int, list]]:
    # Mostly one sample per series, as Prometheus sends (and the known path needs).
    sizes = st.just(1) if draw(st.booleans()) else st.integers(0, 2)
    return draw(
        st.lists(
            st.tuples(
                st.integers(0, len(POOL) - 1),
                sizes.flatmap(lambda n: st.lists(_sample, min_size=n, max_size=n)),
            ),
            max_size=12,
        )
    )


_requests = st.lists(_request(), min_size=1, max_size=4)


@settings(max_examples=examples(60))
@given(requests=_requests, shared=st.lists(st.booleans(), min_size=4, max_size=4))
def test_any_sequence_of_requests_is_read_as_today(
    geolocator: Geolocator, requests: list[list[tuple[int, list]]], shared: list[bool]
) -> None:
    pair = Pair(geolocator)
    pair.both(raw_of(POOL))
    options = [frozenset(), frozenset({"livepeer_value_redeemed"})]
    for request, share in zip(requests, shared, strict=False):
        items = [Series(POOL[i].labels, samples) for i, samples in request]
        _, fast = pair.both(raw_of(items), options[share])
        event("known" if fast else "read the full way")


@settings(max_examples=examples(60))
@given(data=st.data())
def test_damaged_known_requests_are_read_as_today(
    geolocator: Geolocator, data: st.DataObject
) -> None:
    pair = Pair(geolocator)
    raw = raw_of(POOL)
    pair.both(raw)
    pair.both(data.draw(mutated(raw)))
