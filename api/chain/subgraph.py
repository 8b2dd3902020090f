"""Reading ``winningTicketRedeemedEvents`` from a Livepeer subgraph, page by page.

The Graph answers at most ``first`` (≤ 1000) entities per query and makes deep
``skip`` slow or refused, so pages follow a cursor instead: events are walked in
``(timestamp, id)`` order. Many events can share a block timestamp, more than fit in a
page, so a timestamp is *drained* by id (``timestamp: T, id_gt: I``, ordered by id)
before the walk moves on to later timestamps (``timestamp_gt: T``). Every page is
validated whole; a malformed answer raises ``SubgraphError`` naming what is wrong."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import httpx

PAGE_SIZE = 1000
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
# winProb is a uint256 threshold on chain (probability * (2²⁵⁶ - 1)).
_WIN_PROB_SCALE = Decimal(2**256 - 1)

_FIELDS = "id timestamp faceValue winProb recipient { id } sender { id }"
DRAIN_QUERY = f"""
query Drain($first: Int!, $ts: Int!, $after: ID!) {{
  winningTicketRedeemedEvents(first: $first, orderBy: id, orderDirection: asc,
                              where: {{timestamp: $ts, id_gt: $after}}) {{ {_FIELDS} }}
}}
"""
ADVANCE_QUERY = f"""
query Advance($first: Int!, $ts: Int!) {{
  winningTicketRedeemedEvents(first: $first, orderBy: timestamp, orderDirection: asc,
                              where: {{timestamp_gt: $ts}}) {{ {_FIELDS} }}
}}
"""


class SubgraphError(Exception):
    """The subgraph could not be read, or answered something malformed."""


@dataclass(frozen=True, slots=True)
class Redemption:
    id: str
    timestamp: int  # seconds since the epoch (the block's)
    face_value: Decimal  # ETH
    win_prob: float  # 0 to 1
    recipient: str  # lower-case
    sender: str  # lower-case; hashed before it is stored

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, UTC)


def _address(item: dict, key: str, where: str) -> str:
    ref = item.get(key)
    value = ref.get("id") if isinstance(ref, dict) else None
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise SubgraphError(f"{where}.{key}.id is not an Ethereum address")
    return value.lower()


def _decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise SubgraphError(f"{what} is not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise SubgraphError(f"{what} is not a number") from None
    if not number.is_finite() or number < 0:
        raise SubgraphError(f"{what} is not a non-negative number")
    return number


def parse_redemption(item: object, index: int) -> Redemption:
    where = f"winningTicketRedeemedEvents[{index}]"
    if not isinstance(item, dict):
        raise SubgraphError(f"{where} is not an object")
    event_id = item.get("id")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 200:
        raise SubgraphError(f"{where}.id is not a string")
    ts = item.get("timestamp")
    if isinstance(ts, str) and ts.isdigit():
        ts = int(ts)
    if not isinstance(ts, int) or isinstance(ts, bool) or not 0 <= ts < 2**40:
        raise SubgraphError(f"{where}.timestamp is not a Unix time")
    face = _decimal(item.get("faceValue"), f"{where}.faceValue")
    prob = _decimal(item.get("winProb"), f"{where}.winProb")
    if prob > 1:  # the raw uint256 threshold
        prob = prob / _WIN_PROB_SCALE
    if prob > 1:
        raise SubgraphError(f"{where}.winProb is out of range")
    return Redemption(
        id=event_id,
        timestamp=ts,
        face_value=face,
        win_prob=float(prob),
        recipient=_address(item, "recipient", where),
        sender=_address(item, "sender", where),
    )


def parse_page(payload: object) -> list[Redemption]:
    """Validate ``{"data": {"winningTicketRedeemedEvents": [...]}}``."""
    if not isinstance(payload, dict):
        raise SubgraphError("expected a JSON object with data.winningTicketRedeemedEvents")
    if payload.get("errors"):
        errors = payload["errors"]
        first = errors[0] if isinstance(errors, list) and errors else errors
        message = first.get("message") if isinstance(first, dict) else first
        raise SubgraphError(f"the subgraph answered with an error: {message}")
    data = payload.get("data")
    items = data.get("winningTicketRedeemedEvents") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise SubgraphError("expected data.winningTicketRedeemedEvents as a list")
    return [parse_redemption(item, i) for i, item in enumerate(items)]


class SubgraphClient:
    """One subgraph endpoint. ``url`` may carry The Graph's gateway key; it is never
    put in an error message."""

    def __init__(self, url: str, client: httpx.AsyncClient, page_size: int = PAGE_SIZE) -> None:
        self.url = url
        self.client = client
        self.page_size = page_size

    @property
    def where(self) -> str:
        """The endpoint for messages: scheme and host only (keys live in the path)."""
        u = httpx.URL(self.url)
        return f"{u.scheme}://{u.host}{'' if u.port is None else f':{u.port}'}"

    async def _query(self, query: str, variables: dict[str, object]) -> list[Redemption]:
        try:
            response = await self.client.post(
                self.url, json={"query": query, "variables": variables}
            )
        except httpx.HTTPError as exc:
            kind = type(exc).__name__
            raise SubgraphError(
                f"the subgraph at {self.where} could not be reached ({kind})"
            ) from None
        if response.status_code != 200:
            raise SubgraphError(
                f"the subgraph at {self.where} answered HTTP {response.status_code}"
            )
        try:
            payload = response.json()
        except ValueError:
            raise SubgraphError(f"the subgraph at {self.where} did not answer JSON") from None
        return parse_page(payload)

    async def drain(self, ts: int, after: str) -> list[Redemption]:
        """Events at timestamp ``ts`` with an id after ``after``, by id."""
        page = await self._query(DRAIN_QUERY, {"first": self.page_size, "ts": ts, "after": after})
        for i, r in enumerate(page):
            if r.timestamp != ts or r.id <= after or (i and r.id <= page[i - 1].id):
                raise SubgraphError("the subgraph did not page by id within a timestamp")
        return page

    async def advance(self, ts: int) -> list[Redemption]:
        """The first events after timestamp ``ts``, by timestamp."""
        page = await self._query(ADVANCE_QUERY, {"first": self.page_size, "ts": ts})
        for i, r in enumerate(page):
            if r.timestamp <= ts or (i and r.timestamp < page[i - 1].timestamp):
                raise SubgraphError("the subgraph did not page forward by timestamp")
        return page
