"""An orchestrator's own ingest status: what arrived, what was stored, what was left
out and why — so an O can see from the service whether its Prometheus is set up right
(``viewer { ingest }``, ``lpmetrics status``).

Kept in Redis with a bounded size per orchestrator (everything expires):

* per minute of the last hour, a hash of counts: samples received and stored, samples
  dropped by reason, requests and samples refused by reason;
* the last time each node's samples were stored and its newest sample's timestamp (at
  most ``MAX_NODES`` nodes, the most recent ones);
* per drop reason, the distinct series dropped (a HyperLogLog of keyed hashes of the
  series, per ten minutes) and the label *names* and allowlisted metric names involved.
  Label values are never kept: only the sender's own label names, which are checked to
  be Prometheus label names, and metric names out of the service's own allowlist.

Ingest records into process memory (a few dictionary updates per request) and a
background task writes that to Redis at most every ``FLUSH_EVERY_SECONDS``, so the
status costs ingest no round trip of its own. What a process had not written yet when
it stopped is lost: these are diagnostics, not the data. ``status_report`` reads it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from api.ingest.allowlist import BY_SERIES

if TYPE_CHECKING:
    from api.core.services import Services
    from api.ingest.batch import Batch

log = logging.getLogger(__name__)

DROP_REASONS = (
    "not_allowlisted",
    "not_shared",
    "no_node_id",
    "invalid_node_id",
    "loopback_device",
    "non_finite",
    "native_histogram",
)
"""Why samples of an accepted request are left out (``api.ingest.batch``)."""
REFUSAL_REASONS = ("rate_limit", "series_limit", "invalid")
"""Why a whole request is refused: 429 over a limit (``api.ingest.limits``), or 400,
413, 415 for a request that cannot be used (``api.ingest.endpoint``)."""
MAX_MESSAGE = 500

WINDOW_MINUTES = 60
SILENT_AFTER_SECONDS = 300
"""Nothing stored for this long: ``lpmetrics status`` exits non-zero."""
FLUSH_EVERY_SECONDS = 1.0
MAX_NODES = 500
MAX_NAMES = 50
"""Label names (and metric names) kept per drop reason."""
MAX_PENDING_SERIES = 10_000
"""Distinct dropped series a process remembers per orchestrator between two writes."""
SERIES_BUCKET_SECONDS = 600
NODES_TTL_SECONDS = 8 * 86400
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,99}$")

_NODES = """
-- KEYS[1]: hash node -> 'stored_ms newest_ms'; KEYS[2]: hash of the last times.
-- ARGV: max nodes, ttl, received_ms, stored_ms, then node, stored_ms, newest_ms triples.
local max_nodes, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local function raise(key, fld, value)
  local old = tonumber(redis.call('HGET', key, fld))
  if value > 0 and (old == nil or value > old) then redis.call('HSET', key, fld, value) end
end
raise(KEYS[2], 'received', tonumber(ARGV[3]))
raise(KEYS[2], 'stored', tonumber(ARGV[4]))
redis.call('EXPIRE', KEYS[2], ttl)
for i = 5, #ARGV, 3 do
  local stored, newest = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  local old = redis.call('HGET', KEYS[1], ARGV[i])
  if old then
    local s, n = string.match(old, '(%d+) (%d+)')
    stored, newest = math.max(stored, tonumber(s)), math.max(newest, tonumber(n))
  end
  redis.call('HSET', KEYS[1], ARGV[i], stored .. ' ' .. newest)
end
local count = redis.call('HLEN', KEYS[1])
if count > max_nodes then
  local all = redis.call('HGETALL', KEYS[1])
  local nodes = {}
  for i = 1, #all, 2 do
    nodes[#nodes + 1] = {all[i], tonumber(string.match(all[i + 1], '(%d+)'))}
  end
  table.sort(nodes, function(a, b) return a[2] < b[2] end)
  for i = 1, count - max_nodes do redis.call('HDEL', KEYS[1], nodes[i][1]) end
end
if count > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return 0
"""


@dataclass
class _Pending:
    """One orchestrator's status since the last write to Redis."""

    minutes: dict[int, Counter[str]] = field(default_factory=dict)
    nodes: dict[str, tuple[int, int]] = field(default_factory=dict)
    """node -> (stored at, newest sample), ms since the epoch."""
    received_ms: int = 0
    stored_ms: int = 0
    series: dict[str, set[tuple[tuple[str, ...], tuple[str, ...]]]] = field(default_factory=dict)
    metrics: dict[str, set[str]] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    """The answer to the last refused request, by reason (it names no label value)."""

    def minute(self, now: float) -> Counter[str]:
        start = int(now) // 60 * 60
        counts = self.minutes.get(start)
        if counts is None:
            counts = self.minutes[start] = Counter()
        return counts


class StatusRecorder:
    """Collects the status of one process's requests and writes it to Redis in the
    background (see the module docstring)."""

    def __init__(self) -> None:
        self._pending: dict[str, _Pending] = {}
        self._task: asyncio.Task[None] | None = None
        self._last_flush = 0.0

    def accepted(self, services: Services, orchestrator: str, batch: Batch) -> None:
        """An admitted request: its samples received, its drops, its nodes."""
        now = time.time()
        pending = self._for(orchestrator)
        pending.received_ms = int(now * 1000)
        counts = pending.minute(now)
        counts["received"] += batch.received
        for reason, samples in batch.dropped.items():
            counts["drop:" + reason] += samples
        for reason, series in batch.dropped_series:
            keys = pending.series.get(reason)
            if keys is None:
                keys = pending.series[reason] = set()
            if len(keys) < MAX_PENDING_SERIES:
                keys.add((series.label_names, tuple(series.label_values)))
            if series.name in BY_SERIES:  # one of ours, so it may be shown
                pending.metrics.setdefault(reason, set()).add(series.name)
        self._schedule(services)

    def stored(self, services: Services, orchestrator: str, batch: Batch, samples: int) -> None:
        """``samples`` of an admitted request stored (0 when it was a retry)."""
        now_ms = int(time.time() * 1000)
        pending = self._for(orchestrator)
        pending.stored_ms = now_ms
        pending.minute(now_ms / 1000)["stored"] += samples
        nodes = pending.nodes
        for chunk in batch.chunks:
            # The last sample of a chunk, not the greatest: samples come nearly in time
            # order, and a max() over every sample would cost more than all of this.
            newest = chunk.minute_ms + chunk.offsets[-1]
            seen = nodes.get(chunk.node_name)
            if seen is None or seen[1] < newest:
                nodes[chunk.node_name] = (now_ms, newest)
            elif seen[0] != now_ms:
                nodes[chunk.node_name] = (now_ms, seen[1])
        self._schedule(services)

    def refused(
        self, services: Services, orchestrator: str, reason: str, samples: int, message: str
    ) -> None:
        """A whole request refused; ``samples`` in it where known (0 otherwise)."""
        pending = self._for(orchestrator)
        counts = pending.minute(time.time())
        counts["refused:" + reason] += 1
        counts["refused_samples:" + reason] += samples
        pending.messages[reason] = message[:MAX_MESSAGE]
        self._schedule(services)

    def _for(self, orchestrator: str) -> _Pending:
        pending = self._pending.get(orchestrator)
        if pending is None:
            pending = self._pending[orchestrator] = _Pending()
        return pending

    def _schedule(self, services: Services) -> None:
        if self._task is None:
            delay = max(0.0, self._last_flush + FLUSH_EVERY_SECONDS - time.monotonic())
            self._task = asyncio.get_running_loop().create_task(self._flush(services, delay))

    async def _flush(self, services: Services, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        self._last_flush = time.monotonic()
        pending, self._pending = self._pending, {}
        self._task = None  # what is recorded from now on goes in the next write
        try:
            await write(services, pending)
        except Exception as exc:  # diagnostics must never trouble ingest
            log.warning("ingest status not written: %s: %s", type(exc).__name__, exc)


def key_of(services: Services, orchestrator: str, *parts: str) -> str:
    return services.key("ingest", "status", orchestrator, *parts)


def _series_element(secret: bytes, key: tuple[tuple[str, ...], tuple[str, ...]]) -> bytes:
    """A keyed hash of a dropped series: counted, never readable."""
    mac = hashlib.blake2b(digest_size=8, key=secret[:64])
    for name, value in zip(key[0], key[1], strict=False):
        mac.update(b"\0%s\0%s" % (name.encode(), value.encode()))
    return mac.digest()


async def write(services: Services, pending: dict[str, _Pending]) -> None:
    """Add what ``pending`` holds to the status kept in Redis."""
    if not pending:
        return
    now = time.time()
    now_ms = int(now * 1000)
    bucket = int(now) // SERIES_BUCKET_SECONDS
    nodes_script = services.redis.register_script(_NODES)
    pipe = services.redis.pipeline(transaction=False)
    for orchestrator, status in pending.items():
        for minute, counts in status.minutes.items():
            key = key_of(services, orchestrator, "m", str(minute))
            for name, count in counts.items():
                pipe.hincrby(key, name, count)
            pipe.expire(key, (WINDOW_MINUTES + 2) * 60)
        args: list[str | int] = [MAX_NODES, NODES_TTL_SECONDS, status.received_ms, status.stored_ms]
        for node, (stored, newest) in status.nodes.items():
            args += [node, stored, newest]
        await nodes_script(
            keys=[key_of(services, orchestrator, "nodes"), key_of(services, orchestrator, "last")],
            args=args,
            client=pipe,
        )
        if status.messages:
            pipe.hset(
                key_of(services, orchestrator, "last"),
                mapping={"message:" + r: m for r, m in status.messages.items()},
            )
        for reason, keys in status.series.items():
            hll = key_of(services, orchestrator, "series", reason, str(bucket))
            pipe.pfadd(hll, *(_series_element(services.secret, k) for k in keys))
            pipe.expire(hll, WINDOW_MINUTES * 60 + 2 * SERIES_BUCKET_SECONDS)
            names = {n for k in keys for n in k[0] if _LABEL_NAME.match(n)}
            _remember(pipe, key_of(services, orchestrator, "labels", reason), names, now_ms)
        for reason, metrics in status.metrics.items():
            _remember(pipe, key_of(services, orchestrator, "metrics", reason), metrics, now_ms)
    await pipe.execute()


def _remember(pipe, key: str, names: set[str], now_ms: int) -> None:
    """Keep ``names`` in the sorted set ``key`` (the latest ``MAX_NAMES`` of the hour)."""
    if not names:
        return
    pipe.zadd(key, dict.fromkeys(sorted(names)[:MAX_NAMES], now_ms))
    pipe.zremrangebyscore(key, "-inf", now_ms - WINDOW_MINUTES * 60_000)
    pipe.zremrangebyrank(key, 0, -(MAX_NAMES + 1))
    pipe.expire(key, WINDOW_MINUTES * 60 + 60)
