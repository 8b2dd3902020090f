"""Grouping a decoded request into chunks, and what is left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.geo.locate import Geolocator
from api.ingest.batch import prepare
from api.ingest.catalog import Catalog
from api.remote_write import STALE_NAN, InvalidRequest, decode
from tests.support.remote_write_bodies import Series, v1_body

ORCH = "0x" + "5" * 40
M = 1_800_000_000_000 // 60_000 * 60_000  # a whole minute


@pytest.fixture
def catalog(geoip_db: Path) -> Catalog:
    return Catalog(b"secret", Geolocator(geoip_db))


def series(name: str, node: str, samples, **labels: str) -> Series:
    return Series({"__name__": name, "node_id": node, **labels}, samples)


def run(catalog: Catalog, items: list[Series], shared: frozenset[str] = frozenset()):
    return prepare(decode(v1_body(items), 1), ORCH, shared, catalog, oldest_ms=0, newest_ms=M * 2)


def test_chunks_per_node_minute_and_kind(catalog: Catalog) -> None:
    batch = run(
        catalog,
        [
            series("livepeer_current_sessions_total", "a", [(M, 1), (M + 61_000, 2)]),
            series("livepeer_tickets_recv", "a", [(M + 1, 5), (M + 2, STALE_NAN)]),
            series("livepeer_tickets_recv", "b", [(M + 3, 7)]),
        ],
    )
    chunks = {(c.node_name, c.minute_ms - M, c.gauges): (c.offsets, c.values) for c in batch.chunks}
    assert chunks == {
        ("a", 0, True): ([0], [1.0]),
        ("a", 60_000, True): ([1000], [2.0]),
        ("a", 0, False): ([1, 2], [5.0, None]),  # None: the stale marker
        ("b", 0, False): ([3], [7.0]),
    }
    assert batch.stored == 5 and batch.received == 5
    assert len(batch.series) == 3


def test_drops_are_counted_by_reason(catalog: Catalog) -> None:
    batch = run(
        catalog,
        [
            series("go_goroutines", "a", [(M, 1), (M + 1, 1)]),
            series("livepeer_value_redeemed", "a", [(M, 1)]),
            series("livepeer_tickets_recv", "a", [(M, float("inf")), (M + 1, 1)]),
        ],
    )
    assert dict(batch.dropped) == {"not_allowlisted": 2, "not_shared": 1, "non_finite": 1}
    assert batch.stored == 1
    shared = run(
        catalog,
        [series("livepeer_value_redeemed", "a", [(M, 1)])],
        frozenset({"livepeer_value_redeemed"}),
    )
    assert shared.stored == 1


def test_timestamps_outside_the_window_refuse_the_request(catalog: Catalog) -> None:
    items = [series("livepeer_tickets_recv", "a", [(M, 1)])]
    with pytest.raises(InvalidRequest, match="livepeer_tickets_recv has timestamp"):
        prepare(
            decode(v1_body(items), 1), ORCH, frozenset(), catalog, oldest_ms=M + 1, newest_ms=M * 2
        )


def test_catalog_remembers_series_per_orchestrator(catalog: Catalog) -> None:
    labels = (("__name__", "livepeer_tickets_recv"), ("node_id", "a"))
    first = catalog.lookup(ORCH, "livepeer_tickets_recv", labels)
    assert catalog.lookup(ORCH, "livepeer_tickets_recv", labels) is first
    assert catalog.lookup("0x" + "6" * 40, "livepeer_tickets_recv", labels) is not first


def test_series_seen_after_an_eviction_are_all_in_the_catalog(geoip_db: Path) -> None:
    catalog = Catalog(b"secret", Geolocator(geoip_db), max_entries=3)
    items = [series("livepeer_tickets_recv", f"n{i}", [(M, 1)]) for i in range(5)]
    items.append(series("livepeer_tickets_recv", "n0", [(M + 1, 2)]))  # n0 again
    batch = run(catalog, items)
    assert batch.stored == 6
    # The catalog started over while learning n3: what the rest of the request used is
    # in the new one (n0 learned anew), so ``forget`` reaches every id it will be given.
    known = list(catalog.known(ORCH).values())
    infos = [i for c in batch.chunks for i in c.infos]
    assert [i.node_name for i in infos if not any(i is k for k in known)] == ["n0", "n1", "n2"]
