"""Reading an orchestrator's ingest status back from Redis (``api.ingest.status``
writes it): what ``viewer { ingest }`` and ``lpmetrics status`` show."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from api.ingest.limits import ACTIVE_WINDOW_SECONDS
from api.ingest.status import (
    DROP_REASONS,
    REFUSAL_REASONS,
    SERIES_BUCKET_SECONDS,
    SILENT_AFTER_SECONDS,
    WINDOW_MINUTES,
    key_of,
)

if TYPE_CHECKING:
    from api.core.services import Services


@dataclass(frozen=True, slots=True)
class Minute:
    start: float
    """Seconds since the epoch."""
    received: int
    stored: int
    dropped: int
    refused: int


@dataclass(frozen=True, slots=True)
class NodeStatus:
    name: str
    stored_at: float
    newest_sample: float


@dataclass(frozen=True, slots=True)
class Drop:
    reason: str
    samples: int
    series: int | None
    """Distinct series affected (estimated); None where it is not counted."""
    label_names: list[str]
    metrics: list[str]


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str
    requests: int
    samples: int
    last_message: str | None


@dataclass(frozen=True, slots=True)
class Status:
    now: float
    last_received: float | None
    last_stored: float | None
    nodes: list[NodeStatus]
    minutes: list[Minute]
    active_series: int
    series_limit: int
    samples_per_second_limit: int
    drops: list[Drop]
    refusals: list[Refusal]

    @property
    def silent(self) -> bool:
        """Nothing stored in the last ``SILENT_AFTER_SECONDS``."""
        return self.last_stored is None or self.now - self.last_stored > SILENT_AFTER_SECONDS


async def read(services: Services, orchestrator: str) -> Status:
    """The ingest status of ``orchestrator`` over the last hour."""
    now = time.time()
    first_minute = int(now) // 60 * 60 - (WINDOW_MINUTES - 1) * 60
    minutes = [first_minute + 60 * i for i in range(WINDOW_MINUTES)]
    buckets = range(
        (int(now) - WINDOW_MINUTES * 60) // SERIES_BUCKET_SECONDS,
        int(now) // SERIES_BUCKET_SECONDS + 1,
    )
    since_ms = int(now * 1000) - WINDOW_MINUTES * 60_000
    pipe = services.redis.pipeline(transaction=False)
    for minute in minutes:
        pipe.hgetall(key_of(services, orchestrator, "m", str(minute)))
    pipe.hgetall(key_of(services, orchestrator, "nodes"))
    pipe.hgetall(key_of(services, orchestrator, "last"))
    # The limiter's own set (api.ingest.limits), scored by Redis' clock in seconds.
    pipe.zcount(services.key("ingest", "series", orchestrator), now - ACTIVE_WINDOW_SECONDS, "+inf")
    for reason in DROP_REASONS:
        pipe.pfcount(*(key_of(services, orchestrator, "series", reason, str(b)) for b in buckets))
        pipe.zrangebyscore(key_of(services, orchestrator, "labels", reason), since_ms, "+inf")
        pipe.zrangebyscore(key_of(services, orchestrator, "metrics", reason), since_ms, "+inf")
    results = await pipe.execute()

    per_minute = [_decode_counts(r) for r in results[:WINDOW_MINUTES]]
    nodes_raw, last_raw, active = results[WINDOW_MINUTES : WINDOW_MINUTES + 3]
    rest = results[WINDOW_MINUTES + 3 :]
    total: Counter[str] = Counter()
    for counts in per_minute:
        total.update(counts)
    drops = []
    for i, reason in enumerate(DROP_REASONS):
        series, labels, metrics = rest[3 * i : 3 * i + 3]
        samples = total["drop:" + reason]
        if samples or series:
            drops.append(
                Drop(
                    reason,
                    samples,
                    None if reason == "native_histogram" else series,
                    sorted(_text(n) for n in labels),
                    sorted(_text(m) for m in metrics),
                )
            )
    last_text = {_text(k): _text(v) for k, v in last_raw.items()}
    refusals = [
        Refusal(
            reason,
            total["refused:" + reason],
            total["refused_samples:" + reason],
            last_text.get("message:" + reason),
        )
        for reason in REFUSAL_REASONS
        if total["refused:" + reason]
    ]
    settings = services.settings
    last = Counter(
        {k: int(v) for k, v in last_text.items() if k in ("received", "stored") and v.isdigit()}
    )
    return Status(
        now=now,
        last_received=last["received"] / 1000 if last.get("received") else None,
        last_stored=last["stored"] / 1000 if last.get("stored") else None,
        nodes=_nodes(nodes_raw),
        minutes=[_minute(start, counts) for start, counts in zip(minutes, per_minute, strict=True)],
        active_series=int(active),
        series_limit=settings.ingest_max_series,
        samples_per_second_limit=settings.ingest_samples_per_second,
        drops=drops,
        refusals=refusals,
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _decode_counts(raw: dict) -> Counter[str]:
    return Counter({_text(k): int(v) for k, v in raw.items()})


def _minute(start: int, counts: Counter[str]) -> Minute:
    def total(prefix: str) -> int:
        return sum(v for k, v in counts.items() if k.startswith(prefix))

    return Minute(
        start=start,
        received=counts["received"],
        stored=counts["stored"],
        dropped=total("drop:"),
        refused=total("refused_samples:"),
    )


def _nodes(raw: dict) -> list[NodeStatus]:
    nodes = []
    for name, value in raw.items():
        stored, newest = (int(x) for x in _text(value).split())
        nodes.append(NodeStatus(_text(name), stored / 1000, newest / 1000))
    nodes.sort(key=lambda n: (-n.stored_at, n.name))
    return nodes
