"""A simulated Livepeer subgraph: a real GraphQL endpoint over an in-memory chain.

It speaks the subgraph's schema for what lpmetrics reads (``transcoders`` and
``winningTicketRedeemedEvents``) with The Graph's conventions: ``first`` at most 1000,
``where`` filters with ``_gt``/``_gte``/``_lt`` suffixes, ``orderBy`` with the id as
the tie-breaker, BigDecimal and BigInt as strings. ``serve --demo`` serves one for its
simulated network, and the tests script histories through one, so the sync is
exercised over real HTTP. ``failing`` makes it answer 502 (an outage) after a number of
requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from graphql import build_schema, graphql
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

MAX_FIRST = 1000

SDL = """
scalar BigDecimal
scalar BigInt
enum OrderDirection { asc desc }
enum Transcoder_orderBy { id totalStake }
enum WinningTicketRedeemedEvent_orderBy { id timestamp }
type Transcoder { id: ID! serviceURI: String active: Boolean! totalStake: BigDecimal!
                  status: String! }
type Broadcaster { id: ID! }
type WinningTicketRedeemedEvent { id: ID! timestamp: Int! faceValue: BigDecimal!
  winProb: BigInt! recipient: Transcoder! sender: Broadcaster! }
input Transcoder_filter { id: ID id_gt: String active: Boolean }
input WinningTicketRedeemedEvent_filter { id_gt: ID timestamp: Int timestamp_gt: Int
  timestamp_gte: Int timestamp_lt: Int recipient: String }
type Query {
  transcoders(first: Int = 100, skip: Int = 0, where: Transcoder_filter,
              orderBy: Transcoder_orderBy, orderDirection: OrderDirection): [Transcoder!]!
  winningTicketRedeemedEvents(first: Int = 100, skip: Int = 0,
      where: WinningTicketRedeemedEvent_filter, orderBy: WinningTicketRedeemedEvent_orderBy,
      orderDirection: OrderDirection): [WinningTicketRedeemedEvent!]!
}
"""
# Transcoder_filter.id_gt takes a String: api.registry.subgraph sends its cursor as one, and
# graph-node does not hold variables to the ID type.
_SCHEMA = build_schema(SDL)
_WIN_PROB_SCALE = 2**256 - 1


@dataclass
class SimulatedChain:
    """What the subgraph knows; tests and the demo append to it while it serves."""

    transcoders: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    # Answer 502 once this many requests have been served (None: never).
    fail_after: int | None = None

    def add_transcoder(
        self, address: str, *, stake: Decimal | float = 0, service_uri: str | None = None
    ) -> None:
        self.transcoders[address.lower()] = {
            "id": address.lower(),
            "serviceURI": service_uri,
            "active": True,
            "totalStake": str(stake),
            "status": "Registered",
        }

    def redeem(
        self,
        event_id: str,
        timestamp: int,
        recipient: str,
        sender: str,
        face_value: Decimal | float,
        win_prob: float,
    ) -> None:
        """A winning ticket redeemed on chain: ``face_value`` ETH paid to ``recipient``."""
        self.events.append(
            {
                "id": event_id,
                "timestamp": int(timestamp),
                "faceValue": str(face_value),
                "winProb": str(int(win_prob * _WIN_PROB_SCALE)),
                "recipient": {"id": recipient.lower()},
                "sender": {"id": sender.lower()},
            }
        )

    def failing(self, after: int | None) -> None:
        self.fail_after = None if after is None else self.requests + after

    # Resolvers (graphql-core calls root-value methods with the field's arguments).

    def winningTicketRedeemedEvents(self, info: Any, **args: Any) -> list[dict[str, Any]]:
        where = args.get("where") or {}
        rows = [e for e in self.events if _matches(e, where)]
        return _page(rows, args, {"id": lambda e: e["id"], "timestamp": lambda e: e["timestamp"]})

    def transcoders_(self, info: Any, **args: Any) -> list[dict[str, Any]]:
        where = args.get("where") or {}
        rows = [t for t in self.transcoders.values() if _matches(t, where)]
        return _page(
            rows, args, {"id": lambda t: t["id"], "totalStake": lambda t: Decimal(t["totalStake"])}
        )


def _matches(row: dict[str, Any], where: dict[str, Any]) -> bool:
    for key, want in where.items():
        name, _, op = key.partition("_")
        value = row[name]["id"] if name == "recipient" else row[name]
        if op == "" and value != want:
            return False
        if op == "gt" and not value > want:
            return False
        if op == "gte" and not value >= want:
            return False
        if op == "lt" and not value < want:
            return False
    return True


def _page(rows: list[dict[str, Any]], args: dict[str, Any], keys: dict[str, Any]) -> list:
    first, skip = args.get("first", 100), args.get("skip", 0)
    if not 0 <= first <= MAX_FIRST:
        raise ValueError(f"The `first` argument must be between 0 and {MAX_FIRST}, but is {first}")
    key = keys[args.get("orderBy") or "id"]
    rows = sorted(rows, key=lambda r: r["id"])  # The Graph breaks ties by id
    rows.sort(key=key, reverse=args.get("orderDirection") == "desc")
    return rows[skip : skip + first]


class _Root:
    def __init__(self, chain: SimulatedChain) -> None:
        self.winningTicketRedeemedEvents = chain.winningTicketRedeemedEvents
        self.transcoders = chain.transcoders_


def subgraph_app(chain: SimulatedChain) -> Starlette:
    """The ASGI app answering GraphQL POSTs at ``/`` for ``chain``."""

    async def endpoint(request: Request) -> JSONResponse:
        chain.requests += 1
        if chain.fail_after is not None and chain.requests > chain.fail_after:
            return JSONResponse({"error": "bad gateway"}, status_code=502)
        body = await request.json()
        result = await graphql(
            _SCHEMA, body["query"], root_value=_Root(chain), variable_values=body.get("variables")
        )
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [{"message": e.message} for e in result.errors]
        return JSONResponse(payload)

    return Starlette(routes=[Route("/", endpoint, methods=["POST"])])
