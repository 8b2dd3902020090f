"""Requests of known series: from body to ``Batch`` without reading a label.

An orchestrator's Prometheus sends the same label sets every scrape, one sample each.
Once every series of a 1.0 request is known to the catalog by its byte key
(``api.remote_write.keyed_v1``), the request costs a few C-level passes over its series
instead of a decode (a string per label) and ``prepare``'s loop. Any request with a
series not known by its bytes is read the full way (``decode_v1`` then ``prepare``, exactly
as before), and its series are learned for the next time.

Known requests come in two kinds:

* the usual one, every series kept, values finite, a few chunks (node, minute, kind):
  ``_batch_of_known`` builds the batch with ``map``/``compress`` over columns;
* anything else (drops, ``not_shared``, stale markers or other non-finite values,
  timestamps out of range, many chunks): each series is rebuilt from
  what was learned with it and given to ``prepare``, so drops, status bookkeeping and
  errors are exactly today's, still without decoding a label.

Both give the ``Batch`` that ``prepare`` gives for the same body; tests hold them to it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass
from itertools import compress, repeat
from operator import eq, itemgetter

from api.ingest.allowlist import BY_SERIES
from api.ingest.batch import MINUTE_MS, Batch, Chunk, prepare
from api.ingest.catalog import Catalog, KnownSeries
from api.ingest.labels import SeriesInfo
from api.remote_write import DecodedRequest, DecodedSeries, decode_v1, decode_v2
from api.remote_write.keyed_v1 import Split, labels_key, split_v1
from api.remote_write.negotiate import Version

MAX_GROUPS = 8
"""Chunks, (node, minute, gauge or counter), a known request may span and still be
batched by columns: grouping costs a pass over the series per chunk."""

_info = itemgetter(0)
_head = itemgetter(1)
_group = itemgetter(2)
_optional = itemgetter(3)
_new_series = tuple.__new__  # see decode_v1: skips the NamedTuple's Python __new__


@dataclass(slots=True)
class Received:
    """A request as read: its known series, or decoded the full way."""

    samples: int
    """Float samples in the request."""
    known: list[KnownSeries] | None
    """Every series' catalog entry, in order, when all are known by their bytes."""
    split: Split | None
    """Keys and samples of a 1.0 request (None for 2.0 or a malformed request)."""
    decoded: DecodedRequest | None
    """The full decoding, when ``known`` is None."""


def receive(
    raw: bytes | memoryview, version: Version, catalog: Catalog, orchestrator: str
) -> Received:
    """Read an uncompressed request: by its byte keys when all are known, else decoded
    (raising ``MalformedRequest`` / ``InvalidRequest`` as ``decode`` does)."""
    if version == 2:
        decoded = decode_v2(raw)
        return Received(decoded.samples, None, None, decoded)
    split = split_v1(raw)
    if split is not None and split.complete:
        by_bytes = catalog.known_bytes(orchestrator)
        try:
            known = list(map(by_bytes.__getitem__, split.keys))
        except KeyError:
            pass
        else:
            return Received(len(known), known, split, None)
    decoded = decode_v1(raw)
    return Received(decoded.samples, None, split, decoded)


def batch(
    received: Received,
    orchestrator: str,
    shared: frozenset[str],
    catalog: Catalog,
    *,
    oldest_ms: int,
    newest_ms: int,
) -> Batch:
    """The ``Batch`` of ``received``, as ``prepare`` makes it (and raising as it does);
    a request read the full way teaches the catalog its series' byte keys."""
    known, split = received.known, received.split
    if known is not None:
        assert split is not None
        fast = _batch_of_known(known, split, shared, oldest_ms=oldest_ms, newest_ms=newest_ms)
        if fast is not None:
            return fast
        decoded = _rebuilt(known, split)
    else:
        assert received.decoded is not None
        decoded = received.decoded
    result = prepare(
        decoded, orchestrator, shared, catalog, oldest_ms=oldest_ms, newest_ms=newest_ms
    )
    if known is None and split is not None:
        learn(catalog, orchestrator, split, decoded)
    return result


def learn(catalog: Catalog, orchestrator: str, split: Split, decoded: DecodedRequest) -> None:
    """Remember the byte keys of ``decoded``'s series (after ``prepare`` saw them, so
    allowlisted ones have their ``SeriesInfo`` already)."""
    if decoded.version != 1 or len(decoded.series) != len(split.keys):
        return
    groups: dict[str, str] = {}  # one object per group: cheap to hash and compare
    for key, series in zip(split.keys, decoded.series, strict=True):
        # The catalog's dicts are fetched afresh: learning may evict (and replace) them.
        if not key or key in catalog.known_bytes(orchestrator):
            continue
        if len(series.samples) != 1 or series.histograms or series.exemplars:
            continue
        # The condition that makes byte keys safe (see keyed_v1): only a key that is
        # exactly this series' validated labels is ever learned.
        if not labels_key(key, series.label_names, series.label_values):
            continue
        name = series.name
        head = (name, series.label_names, series.label_values)
        if name not in BY_SERIES:
            # As in prepare, junk never reaches the label-key catalog; its byte keys are
            # capped per orchestrator (catalog.MAX_UNLISTED_PER_ORCHESTRATOR).
            catalog.learn_bytes(orchestrator, key, ("not_allowlisted", head, "", None))
            continue
        label_key = (series.label_names, tuple(series.label_values))
        info = catalog.known(orchestrator).get(label_key)
        if info is None:
            info = catalog.learn(orchestrator, label_key, name)
        if isinstance(info, str):
            catalog.learn_bytes(orchestrator, key, (info, head, "", None))
            continue
        group = group_of(info.node_name, info.gauge)
        group = groups.setdefault(group, group)
        optional = None if info.required else info.family
        catalog.learn_bytes(orchestrator, key, (info, head, group, optional))


def group_of(node_name: str, gauge: bool) -> str:
    """The chunk a kept series' samples go to, but for the minute, as one string."""
    return ("g" if gauge else "c") + node_name


def _rebuilt(known: list[KnownSeries], split: Split) -> DecodedRequest:
    """The ``DecodedRequest`` ``decode_v1`` gives for a request of known series."""
    samples = map(list, zip(zip(split.timestamps.tolist(), split.values, strict=True)))
    rest = zip(samples, repeat(0), repeat(0))
    series = list(
        map(_new_series, repeat(DecodedSeries), map(tuple.__add__, map(_head, known), rest))
    )
    return DecodedRequest(1, series, len(series), 0, 0)


def _batch_of_known(
    known: list[KnownSeries],
    split: Split,
    shared: frozenset[str],
    *,
    oldest_ms: int,
    newest_ms: int,
) -> Batch | None:
    """The batch of the usual known request, by columns; None for any other."""
    if not known:
        return None
    groups = list(map(_group, known))
    if "" in dict.fromkeys(groups):
        return None  # a drop among them
    for family in set(map(_optional, known)):
        if family is not None and family not in shared:
            return None
    values = split.values
    total = sum(values)
    if total - total != 0.0:  # a NaN or infinity among them (or an overflowing sum)
        return None
    timestamps = split.timestamps
    if int(timestamps.min()) < oldest_ms or int(timestamps.max()) > newest_ms:
        return None  # prepare names the first offending metric
    minutes = timestamps - timestamps % MINUTE_MS
    offsets = (timestamps - minutes).tolist()
    first_minute = int(minutes[0])
    # A chunk per (group, minute), in order of first appearance, as prepare makes them.
    one_minute = bool((minutes == first_minute).all())
    keys: list[Hashable] = (
        list(groups) if one_minute else list(zip(groups, minutes.tolist(), strict=True))
    )
    chunk_keys = list(dict.fromkeys(keys))
    if len(chunk_keys) > MAX_GROUPS:
        return None
    infos: list[SeriesInfo] = list(map(_info, known))
    chunks = []
    for key in chunk_keys:
        group, minute = (key, first_minute) if one_minute else key
        if len(chunk_keys) == 1:
            selected = (infos, offsets, list(values))
        else:
            chosen = list(map(eq, keys, repeat(key)))
            selected = (
                list(compress(infos, chosen)),
                list(compress(offsets, chosen)),
                list(compress(values, chosen)),
            )
        chunks.append(Chunk(group[1:], minute, group[0] == "g", *selected))
    # Distinct series in order of first appearance, as prepare's ``kept``. Byte keys are
    # canonical, so equal series have equal keys: with no key twice, no info is twice.
    if len(set(split.keys)) == len(infos):
        series = list(infos)
    else:
        series = list(dict(zip(map(id, infos), infos, strict=True)).values())
    return Batch(chunks, series, len(infos), Counter(), [])
