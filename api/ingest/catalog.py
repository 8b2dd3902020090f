"""Series and node ids, with a per-process cache in front of PostgreSQL.

An orchestrator's Prometheus sends the same few hundred label sets every scrape, so a
request normally costs one dictionary lookup per series and no query at all. Entries
are looked up in the database again after ``RESOLVE_EVERY_SECONDS``, so rows removed
meanwhile (retention, deleted data) are recreated rather than referenced forever.

The cache keys hold raw label values in memory only; they never reach a log, a message
or the database.

Next to the label-tuple keys, series are also known by their *bytes*: their label fields
exactly as sent (``api.remote_write.keyed_v1``), which lets ``api.ingest.known`` take a
request of known series without reading a label. Both kinds share the bound and the
``SeriesInfo`` objects, so ids resolved or forgotten through one hold for the other.
"""

from __future__ import annotations

import time
from itertools import chain
from operator import itemgetter

import asyncpg

from api.geo.locate import Geolocator
from api.ingest.labels import SeriesInfo, describe
from api.remote_write import Labels

RESOLVE_EVERY_SECONDS = 3600.0
MAX_ENTRIES = 500_000


MAX_UNLISTED_PER_ORCHESTRATOR = 1_000
"""Byte keys of series dropped as not allowlisted, kept per orchestrator: enough for the
few a misconfigured Prometheus sends every scrape, while a sender of endless junk names
cannot fill the cache (its requests are then read the full way, as before)."""


SeriesKey = tuple[tuple[str, ...], tuple[str, ...]]
"""(label names, label values) of a received series, as the codec gives them."""

SeriesHead = tuple[str, tuple[str, ...], list[str]]
"""(metric name, label names, label values): a ``DecodedSeries`` without its samples."""

KnownSeries = tuple[SeriesInfo | str, SeriesHead, str, str | None]
"""What a series' byte key stands for, as learned at first sight: its ``SeriesInfo`` or
drop reason; its decoded labels (for drop bookkeeping and the rare request that needs
the general path; the label-values list is shared, never modify it); its chunk group
(``known.group_of``, "" for a drop); and its family when that is optional, else None.
The last two are what the per-request checks read, as objects cheap to hash."""


_info = itemgetter(0)


class Catalog:
    def __init__(self, secret: bytes, geolocator: Geolocator, *, max_entries: int = MAX_ENTRIES):
        self._secret = secret
        self._geolocator = geolocator
        self._max_entries = max_entries
        self._size = 0
        self._known: dict[str, dict[SeriesKey, SeriesInfo | str]] = {}
        self._by_bytes: dict[str, dict[bytes, KnownSeries]] = {}
        self._unlisted: dict[str, int] = {}

    def known(self, orchestrator: str) -> dict[SeriesKey, SeriesInfo | str]:
        """The series of ``orchestrator`` seen so far: the hot path reads this directly."""
        known = self._known.get(orchestrator)
        if known is None:
            known = self._known[orchestrator] = {}
        return known

    def learn(self, orchestrator: str, key: SeriesKey, name: str) -> SeriesInfo | str:
        """Describe a series seen for the first time (see ``labels.describe``)."""
        if self._size >= self._max_entries:
            self._evict()
        labels: Labels = tuple(zip(key[0], key[1], strict=True))
        info = describe(name, labels, self._secret, self._geolocator)
        self.known(orchestrator)[key] = info
        self._size += 1
        return info

    def known_bytes(self, orchestrator: str) -> dict[bytes, KnownSeries]:
        """The series of ``orchestrator`` known by their byte keys (read directly)."""
        known = self._by_bytes.get(orchestrator)
        if known is None:
            known = self._by_bytes[orchestrator] = {}
        return known

    def learn_bytes(self, orchestrator: str, key: bytes, series: KnownSeries) -> None:
        """Remember a byte key; the caller has checked it (``keyed_v1.labels_key``)."""
        if self._size >= self._max_entries:
            self._evict()
        if series[0] == "not_allowlisted":
            unlisted = self._unlisted.get(orchestrator, 0)
            if unlisted >= MAX_UNLISTED_PER_ORCHESTRATOR:
                return
            self._unlisted[orchestrator] = unlisted + 1
        self.known_bytes(orchestrator)[key] = series
        self._size += 1

    def lookup(self, orchestrator: str, name: str, labels: Labels) -> SeriesInfo | str:
        """What ingest keeps of a series, or why it is dropped (for callers off the hot
        path; ``prepare`` uses ``known`` and ``learn``)."""
        key = (tuple(n for n, _ in labels), tuple(v for _, v in labels))
        info = self.known(orchestrator).get(key)
        return self.learn(orchestrator, key, name) if info is None else info

    def forget(self, orchestrator: str) -> None:
        """Drop the database ids of ``orchestrator``'s series (its rows went away)."""
        # Through both kinds of key: they normally share their infos, but a byte key may
        # keep one the label key no longer holds (learned across an eviction).
        infos = chain(
            self.known(orchestrator).values(), map(_info, self.known_bytes(orchestrator).values())
        )
        for info in infos:
            if isinstance(info, SeriesInfo):
                info.series_id = info.node_id = None

    def _evict(self) -> None:
        # Rare (the bound is far above a healthy network): start over, keeping nothing
        # that could be stale. Everything is looked up again on the next requests.
        self._known.clear()
        self._by_bytes.clear()
        self._unlisted.clear()
        self._size = 0

    async def resolve(
        self, db: asyncpg.Pool | asyncpg.Connection, orchestrator: str, infos: list[SeriesInfo]
    ) -> None:
        """Set ``node_id`` and ``series_id`` of ``infos``, creating rows on first sight."""
        now = time.monotonic()
        due = [
            i for i in infos if i.series_id is None or now - i.resolved_at > RESOLVE_EVERY_SECONDS
        ]
        if not due:
            return
        node_types: dict[str, str | None] = {}
        for info in due:
            node_types.setdefault(info.node_name, info.node_type)
        node_ids = await _node_ids(db, orchestrator, node_types)
        wanted: dict[tuple[int, bytes], SeriesInfo] = {}
        for info in due:
            info.node_id = node_ids[info.node_name]
            wanted[(info.node_id, info.digest)] = info
        series_ids = await _series_ids(db, wanted)
        for info in due:
            info.series_id = series_ids[(info.node_id, info.digest)]
            info.resolved_at = now


async def _node_ids(
    db: asyncpg.Pool | asyncpg.Connection, orchestrator: str, node_types: dict[str, str | None]
) -> dict[str, int]:
    """Ids of the named nodes of ``orchestrator``, created on first sight."""
    names = list(node_types)
    # Select first and insert only what is missing: existing rows are never locked, so
    # this cannot deadlock with anything updating them.
    query_existing = (
        "SELECT id, name FROM nodes WHERE orchestrator = $1 AND name = ANY ($2::text[])"
    )
    found = {r["name"]: r["id"] for r in await db.fetch(query_existing, orchestrator, names)}
    missing = [n for n in names if n not in found]
    if missing:
        rows = await db.fetch(
            """
            INSERT INTO nodes (orchestrator, name, node_type)
            SELECT $1, name, coalesce(node_type, 'orch')
            FROM unnest($2::text[], $3::text[]) AS t(name, node_type)
            ON CONFLICT (orchestrator, name) DO NOTHING
            RETURNING id, name
            """,
            orchestrator,
            missing,
            [node_types[n] for n in missing],
        )
        found.update({r["name"]: r["id"] for r in rows})
        if len(found) < len(names):  # created concurrently by another request
            found.update(
                {r["name"]: r["id"] for r in await db.fetch(query_existing, orchestrator, missing)}
            )
    return found


async def _series_ids(
    db: asyncpg.Pool | asyncpg.Connection, wanted: dict[tuple[int, bytes], SeriesInfo]
) -> dict[tuple[int, bytes], int]:
    query_existing = """
        SELECT s.id, s.node, s.digest
        FROM unnest($1::bigint[], $2::bytea[]) AS k(node, digest)
        JOIN series s ON s.node = k.node AND s.digest = k.digest
    """
    keys = list(wanted)
    found = {
        (r["node"], r["digest"]): r["id"]
        for r in await db.fetch(query_existing, [k[0] for k in keys], [k[1] for k in keys])
    }
    missing = [k for k in keys if k not in found]
    if missing:
        infos = [wanted[k] for k in missing]
        rows = await db.fetch(
            """
            INSERT INTO series (node, digest, metric, sender, country, cell)
            SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::text[], $4::bytea[],
                                 $5::text[], $6::text[])
            ON CONFLICT (node, digest) DO NOTHING
            RETURNING id, node, digest
            """,
            [k[0] for k in missing],
            [k[1] for k in missing],
            [i.metric for i in infos],
            [i.sender for i in infos],
            [i.country for i in infos],
            [i.cell for i in infos],
        )
        found.update({(r["node"], r["digest"]): r["id"] for r in rows})
        still = [k for k in missing if k not in found]
        if still:  # created concurrently by another request
            found.update(
                {
                    (r["node"], r["digest"]): r["id"]
                    for r in await db.fetch(
                        query_existing, [k[0] for k in still], [k[1] for k in still]
                    )
                }
            )
    return found
