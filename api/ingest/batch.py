"""Turn a decoded remote-write request into what gets stored: allowlisted series only,
samples validated and grouped into one chunk per (node, minute, gauges or counters).

Pure computation; ids come from the catalog afterwards, storage from ``storage``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from api.ingest.allowlist import BY_SERIES
from api.ingest.catalog import Catalog
from api.ingest.labels import SeriesInfo
from api.remote_write import DecodedRequest, DecodedSeries, InvalidRequest, is_stale_marker

MINUTE_MS = 60_000


@dataclass(slots=True)
class Chunk:
    node_name: str
    minute_ms: int
    gauges: bool
    infos: list[SeriesInfo] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)
    """None is a stale marker."""

    @property
    def minute(self) -> datetime:
        return datetime.fromtimestamp(self.minute_ms / 1000, UTC)

    def series_ids(self) -> list[int]:
        return [info.series_id for info in self.infos]  # type: ignore[misc]

    def node_id(self) -> int:
        return self.infos[0].node_id  # type: ignore[return-value]


@dataclass(slots=True)
class Batch:
    chunks: list[Chunk]
    series: list[SeriesInfo]
    """Distinct series kept, in order of appearance."""
    received: int
    """Float samples in the request, kept or not."""
    dropped: Counter[str]
    """Samples (and native-histogram samples) left out, by reason."""
    dropped_series: list[tuple[str, DecodedSeries]] = field(default_factory=list)
    """(reason, series) of each series with samples left out (for ``status``)."""

    @property
    def stored(self) -> int:
        return sum(len(c.offsets) for c in self.chunks)


def prepare(
    decoded: DecodedRequest,
    orchestrator: str,
    shared: frozenset[str],
    catalog: Catalog,
    *,
    oldest_ms: int,
    newest_ms: int,
) -> Batch:
    """Filter and group ``decoded``; raise ``InvalidRequest`` for a kept sample with a
    timestamp outside [oldest_ms, newest_ms] (the whole request is refused)."""
    # The hot loop of ingest: ~2,000 series per request, nearly all known already, so
    # it is written for the cost of each line (locals, no helper calls on the way).
    dropped: Counter[str] = Counter()
    if decoded.histograms:
        dropped["native_histogram"] += decoded.histograms
    dropped_series: list[tuple[str, DecodedSeries]] = []
    groups: dict[tuple[str, int, bool], Chunk] = {}
    kept: dict[int, SeriesInfo] = {}
    known = catalog.known(orchestrator)
    allowed = BY_SERIES
    chunk_key: tuple[str, int, bool] | None = None
    chunk = Chunk("", 0, False)
    for series in decoded.series:
        samples = series.samples
        if not samples:
            continue
        name = series.name
        if name not in allowed:  # before the cache: junk must not fill it
            dropped["not_allowlisted"] += len(samples)
            dropped_series.append(("not_allowlisted", series))
            continue
        key = (series.label_names, tuple(series.label_values))
        info = known.get(key)
        if info is None:
            info = catalog.learn(orchestrator, key, name)
            known = catalog.known(orchestrator)  # learning may have evicted (replaced) it
        if info.__class__ is str:
            dropped[info] += len(samples)  # type: ignore[index]
            dropped_series.append((info, series))  # type: ignore[arg-type]
            continue
        assert isinstance(info, SeriesInfo)
        if not info.required and info.family not in shared:
            dropped["not_shared"] += len(samples)
            dropped_series.append(("not_shared", series))
            continue
        nonfinite = 0
        for ts, value in samples:
            if not oldest_ms <= ts <= newest_ms:
                raise InvalidRequest(
                    f"a sample of {name} has timestamp {ts} (ms since the epoch), "
                    f"outside the accepted range {oldest_ms} to {newest_ms}: older than the "
                    "raw retention or ahead of the server's clock"
                )
            if value - value != 0.0:  # NaN or infinite
                if is_stale_marker(value):
                    value = None
                else:
                    nonfinite += 1
                    continue
            minute = ts - ts % MINUTE_MS
            if (
                chunk_key is None
                or chunk_key[1] != minute
                or chunk_key[0] != info.node_name
                or chunk_key[2] != info.gauge
            ):
                chunk_key = (info.node_name, minute, info.gauge)
                found = groups.get(chunk_key)
                if found is None:
                    found = groups[chunk_key] = Chunk(info.node_name, minute, info.gauge)
                chunk = found
            chunk.infos.append(info)
            chunk.offsets.append(ts - minute)
            chunk.values.append(value)
        if nonfinite:
            dropped["non_finite"] += nonfinite
            dropped_series.append(("non_finite", series))
        if nonfinite < len(samples):
            kept[id(info)] = info
    return Batch(
        list(groups.values()), list(kept.values()), decoded.samples, dropped, dropped_series
    )
