"""Label handling at the door (DESIGN §2): what a received series becomes.

Of a series' labels only what a feature needs survives, transformed at once:
``sender`` → keyed hash of the lower-cased address; ``client_ip`` → country and H3
resolution-3 cell; ``node_id`` → the node. Everything else, ``manifest_id`` included,
only contributes to the series' identity ``digest`` (a keyed hash of the whole label
set) so distinct counters stay apart. Raw values never leave this module: they are not
stored, logged or put in messages.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from api.geo.locate import Geolocator
from api.ingest import allowlist
from api.remote_write import Labels

ORIGIN_RESOLUTION = 3
"""H3 resolution of a client's origin: never finer than what anonymous callers get."""
MAX_NODE_NAME = 200
_NODE_TYPE = re.compile(r"^[a-z]{1,16}$")


def sender_hash(secret: bytes, address: str) -> bytes:
    """The keyed hash a broadcaster (``sender`` label) is known by."""
    return hmac.new(secret, address.strip().lower().encode(), hashlib.sha256).digest()


def series_digest(secret: bytes, labels: Labels) -> bytes:
    """Keyed hash of a full label set: a stable identity that reveals none of it."""
    mac = hmac.new(secret, b"series", hashlib.sha256)
    for name, value in labels:
        mac.update(b"\0%s\0%s" % (name.encode(), value.encode()))
    return mac.digest()


@dataclass(slots=True)
class SeriesInfo:
    """What ingest keeps of one received series, plus ids resolved in the database."""

    metric: str
    gauge: bool
    family: str
    required: bool
    node_name: str
    node_type: str | None
    digest: bytes
    sender: bytes | None
    country: str | None
    cell: str | None
    # Filled in by the catalog (database ids) and the limiter (last report to Redis).
    series_id: int | None = None
    node_id: int | None = None
    resolved_at: float = 0.0
    reported_at: float = 0.0


def describe(name: str, labels: Labels, secret: bytes, geolocator: Geolocator) -> SeriesInfo | str:
    """The ``SeriesInfo`` of an allowlisted series, or the reason it is dropped."""
    metric = allowlist.BY_SERIES.get(name)
    if metric is None:
        return "not_allowlisted"
    values = dict(labels)
    node_name = values.get(allowlist.NODE_LABEL)
    if not node_name:
        return "no_node_id"
    if len(node_name) > MAX_NODE_NAME:
        return "invalid_node_id"
    if name in allowlist.NIC_METRICS and values.get("device") == allowlist.LOOPBACK_DEVICE:
        return "loopback_device"
    node_type = values.get("node_type")
    if node_type is not None and not _NODE_TYPE.match(node_type):
        node_type = None
    sender = values.get("sender")
    country = cell = None
    client_ip = values.get("client_ip")
    if client_ip is not None:
        located_country, located_cell = geolocator.coarse_origin(client_ip, ORIGIN_RESOLUTION)
        country, cell = located_country or "", located_cell or ""
    return SeriesInfo(
        metric=name,
        gauge=metric.kind == "gauge",
        family=metric.family,
        required=metric.required,
        node_name=node_name,
        node_type=node_type,
        digest=series_digest(secret, labels),
        sender=sender_hash(secret, sender) if sender else None,
        country=country,
        cell=cell,
    )
