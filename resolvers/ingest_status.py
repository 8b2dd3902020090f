"""``viewer { ingest { ... } }``: the caller's own ingest status (``api.ingest.status``).

Only the orchestrator itself sees it (signed in, or with a READ API token); it names
label *names* and allowlisted metrics, never a label value."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import strawberry

from api.disclosure.precision import Rule
from api.ingest import status_report as ingest_status
from resolvers.fields import precise_field


def own_field(description: str) -> Any:
    """About the caller's own ingest: nothing to coarsen, and only its owner gets one."""
    return precise_field(Rule.CALLER, description=description)


@strawberry.enum(description="Why samples of an accepted remote-write request were left out.")
class IngestDropReason(Enum):
    NOT_ALLOWLISTED = strawberry.enum_value(
        "not_allowlisted", description="The metric is not one the service keeps."
    )
    NOT_SHARED = strawberry.enum_value(
        "not_shared", description="An optional metric you have not chosen to share."
    )
    NO_NODE_ID = strawberry.enum_value(
        "no_node_id", description="The series has no node_id label (or an empty one)."
    )
    INVALID_NODE_ID = strawberry.enum_value(
        "invalid_node_id", description="The node_id label is longer than 200 characters."
    )
    LOOPBACK_DEVICE = strawberry.enum_value(
        "loopback_device", description="A network counter of the loopback device (lo)."
    )
    NON_FINITE = strawberry.enum_value(
        "non_finite", description="Samples that are NaN or infinite (not stale markers)."
    )
    NATIVE_HISTOGRAM = strawberry.enum_value(
        "native_histogram", description="Native histogram samples: not used."
    )


@strawberry.enum(description="Why a whole remote-write request was refused.")
class IngestRefusalReason(Enum):
    RATE_LIMIT = strawberry.enum_value(
        "rate_limit", description="Over your samples-per-second limit; Prometheus retries."
    )
    SERIES_LIMIT = strawberry.enum_value(
        "series_limit", description="More active series than your limit."
    )
    INVALID = strawberry.enum_value(
        "invalid",
        description="A request that cannot be used (HTTP 400, 413 or 415: malformed, too"
        " large, samples older than the raw retention or ahead of the clock). Prometheus"
        " does not retry these: their samples are lost.",
    )


@strawberry.type(description="One minute of your ingest (server time).")
class IngestMinute:
    start: datetime = own_field("The minute's start.")
    received_samples: int = own_field("Samples in the requests accepted that minute.")
    stored_samples: int = own_field("Samples stored.")
    dropped_samples: int = own_field("Samples of accepted requests left out (see drops).")
    refused_samples: int = own_field("Samples in requests refused with 429 (see refusals).")


@strawberry.type(description="When one of your nodes last had samples stored.")
class IngestNode:
    name: str = own_field("Its node_id label.")
    last_stored_at: datetime = own_field("When its samples were last stored.")
    newest_sample_at: datetime = own_field(
        "The timestamp of its newest sample stored (to within a scrape interval): far"
        " behind last_stored_at when your Prometheus is catching up."
    )


@strawberry.type(description="Samples left out of your accepted requests for one reason.")
class IngestDrop:
    reason: IngestDropReason = own_field("Why.")
    samples: int = own_field("Samples left out over the last hour.")
    series: int | None = own_field(
        "Distinct series affected over the last hour (an estimate, within ~1 %);"
        " null where not counted (native histograms)."
    )
    label_names: list[str] = own_field(
        "The label names of those series (never their values): what to fix in"
        " write_relabel_configs."
    )
    metrics: list[str] = own_field(
        "The metrics affected, when they are ones the service knows (an unknown"
        " metric's name is never repeated back)."
    )


@strawberry.type(description="Requests refused for one reason.")
class IngestRefusal:
    reason: IngestRefusalReason = own_field("Why.")
    requests: int = own_field("Requests refused over the last hour.")
    samples: int = own_field(
        "Samples in them, where known (0 for requests that could not be read)."
    )
    last_message: str | None = own_field(
        "The service's answer to the last of them (it names no label value)."
    )


@strawberry.type(
    description="Your ingest over the last hour: what arrived, what was stored, what was"
    " left out and why. Updated within a couple of seconds of each request."
)
class IngestStatus:
    receiving: bool = own_field(
        "Whether samples were stored in the last 5 minutes (what `lpmetrics status`"
        " exits non-zero on)."
    )
    last_received_at: datetime | None = own_field(
        "When a request of yours was last accepted (stored or dropped), if in the last week."
    )
    last_stored_at: datetime | None = own_field(
        "When samples of yours were last stored, if in the last week."
    )
    nodes: list[IngestNode] = own_field("Your nodes, the most recently stored first.")
    minutes: list[IngestMinute] = own_field("The last 60 minutes, oldest first.")
    stored_samples: int = own_field("Samples stored over the last hour.")
    active_series: int = own_field("Series stored in the last hour, counted against the limit.")
    series_limit: int = own_field("Active series allowed (LPM_INGEST_MAX_SERIES).")
    samples_per_second_limit: int = own_field(
        "Sustained samples per second allowed (LPM_INGEST_SAMPLES_PER_SECOND)."
    )
    drops: list[IngestDrop] = own_field("Samples left out over the last hour, by reason.")
    refusals: list[IngestRefusal] = own_field("Requests refused over the last hour, by reason.")

    @classmethod
    def of(cls, found: ingest_status.Status) -> IngestStatus:
        return cls(
            receiving=not found.silent,
            last_received_at=_time(found.last_received),
            last_stored_at=_time(found.last_stored),
            nodes=[
                IngestNode(
                    name=n.name,
                    last_stored_at=_time(n.stored_at),
                    newest_sample_at=_time(n.newest_sample),
                )
                for n in found.nodes
            ],
            minutes=[
                IngestMinute(
                    start=_time(m.start),
                    received_samples=m.received,
                    stored_samples=m.stored,
                    dropped_samples=m.dropped,
                    refused_samples=m.refused,
                )
                for m in found.minutes
            ],
            stored_samples=sum(m.stored for m in found.minutes),
            active_series=found.active_series,
            series_limit=found.series_limit,
            samples_per_second_limit=found.samples_per_second_limit,
            drops=[
                IngestDrop(
                    reason=IngestDropReason(d.reason),
                    samples=d.samples,
                    series=d.series,
                    label_names=d.label_names,
                    metrics=d.metrics,
                )
                for d in found.drops
            ],
            refusals=[
                IngestRefusal(
                    reason=IngestRefusalReason(r.reason),
                    requests=r.requests,
                    samples=r.samples,
                    last_message=r.last_message,
                )
                for r in found.refusals
            ],
        )


def _time(seconds: Any) -> Any:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)
