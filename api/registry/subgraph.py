"""The registry of orchestrators, as the Livepeer subgraph knows them.

Imported from a subgraph-shaped JSON file or synced from a subgraph over GraphQL. A
source is read and validated whole before anything is written, and written in one
transaction, so a bad file or a failed sync leaves the registry as it was."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import asyncpg
import httpx

from api.geo.locate import UNKNOWN, Geolocator, Location
from api.geo.places import location_id

Progress = Callable[[str, int, "int | None"], None]
"""``progress(step, done, total)``: how far long work is (the CLI draws it)."""

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_PAGE_SIZE = 1000
_MAX_PAGES = 1000  # a runaway subgraph must not keep us paging forever
_GEOLOCATE_CONCURRENCY = 16

SUBGRAPH_QUERY = """
query Transcoders($first: Int!, $last: String!) {
  transcoders(first: $first, where: {id_gt: $last}, orderBy: id, orderDirection: asc) {
    id serviceURI active totalStake status
  }
}
"""


class RegistryError(Exception):
    """The source could not be read or is malformed; nothing was changed."""


@dataclass(frozen=True, slots=True)
class Transcoder:
    address: str
    service_uri: str | None
    active: bool
    status: str | None
    total_stake: Decimal


@dataclass(frozen=True, slots=True)
class ImportSummary:
    total: int
    inserted: int
    updated: int


def parse_transcoder(item: object, index: int) -> Transcoder:
    where = f"transcoders[{index}]"
    if not isinstance(item, dict):
        raise RegistryError(f"{where} is not an object")
    address = item.get("id")
    if not isinstance(address, str) or not _ADDRESS.match(address):
        raise RegistryError(f"{where}.id is not an Ethereum address")
    uri = item.get("serviceURI")
    if uri is not None and not isinstance(uri, str):
        raise RegistryError(f"{where}.serviceURI is not a string")
    active = item.get("active", False)
    if not isinstance(active, bool):
        raise RegistryError(f"{where}.active is not a boolean")
    status = item.get("status")
    if status is not None and not isinstance(status, str):
        raise RegistryError(f"{where}.status is not a string")
    raw_stake = item.get("totalStake", "0")
    try:
        stake = Decimal(str(raw_stake))
    except InvalidOperation:
        raise RegistryError(f"{where}.totalStake is not a number") from None
    if not stake.is_finite() or stake < 0 or isinstance(raw_stake, bool):
        raise RegistryError(f"{where}.totalStake is not a non-negative number")
    return Transcoder(address.lower(), uri or None, active, status, stake)


def parse_transcoders(payload: object) -> list[Transcoder]:
    """Validate a subgraph answer ``{"data": {"transcoders": [...]}}``."""
    if not isinstance(payload, dict):
        raise RegistryError("expected a JSON object with data.transcoders")
    if payload.get("errors"):
        first = payload["errors"][0] if isinstance(payload["errors"], list) else payload["errors"]
        message = first.get("message") if isinstance(first, dict) else first
        raise RegistryError(f"the subgraph answered with an error: {message}")
    data = payload.get("data")
    items = data.get("transcoders") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise RegistryError("expected a JSON object with data.transcoders as a list")
    transcoders = [parse_transcoder(item, i) for i, item in enumerate(items)]
    seen: set[str] = set()
    for t in transcoders:
        if t.address in seen:
            raise RegistryError(f"orchestrator {t.address} is listed twice")
        seen.add(t.address)
    return transcoders


def read_file(path: Path) -> list[Transcoder]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise RegistryError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryError(f"{path} is not valid JSON: {exc}") from None
    return parse_transcoders(payload)


async def fetch_subgraph(
    url: str, *, client: httpx.AsyncClient | None = None, progress: Progress | None = None
) -> list[Transcoder]:
    """Every transcoder of the subgraph at ``url``, paged by id."""
    own = client is None
    client = client or httpx.AsyncClient(timeout=30)
    result: list[Transcoder] = []
    last = ""
    try:
        for _ in range(_MAX_PAGES):
            try:
                response = await client.post(
                    url,
                    json={
                        "query": SUBGRAPH_QUERY,
                        "variables": {"first": _PAGE_SIZE, "last": last},
                    },
                )
            except httpx.HTTPError as exc:
                raise RegistryError(f"the subgraph at {url} could not be reached: {exc}") from None
            if response.status_code != 200:
                raise RegistryError(f"the subgraph at {url} answered HTTP {response.status_code}")
            try:
                payload = response.json()
            except ValueError:
                raise RegistryError(f"the subgraph at {url} did not answer JSON") from None
            page = parse_transcoders(payload)
            result.extend(page)
            if progress is not None:
                progress("fetching the subgraph", len(result), None)
            if len(page) < _PAGE_SIZE:
                break
            if page[-1].address <= last:
                raise RegistryError("the subgraph did not page forward by id")
            last = page[-1].address
        else:
            raise RegistryError(f"the subgraph returned more than {_MAX_PAGES} pages")
    finally:
        if own:
            await client.aclose()
    return parse_transcoders({"data": {"transcoders": [_as_item(t) for t in result]}})


def _as_item(t: Transcoder) -> dict[str, object]:
    return {
        "id": t.address,
        "serviceURI": t.service_uri,
        "active": t.active,
        "status": t.status,
        "totalStake": str(t.total_stake),
    }


async def apply(
    pool: asyncpg.Pool,
    transcoders: list[Transcoder],
    geolocator: Geolocator,
    progress: Progress | None = None,
) -> ImportSummary:
    """Upsert ``transcoders`` in one transaction and geolocate changed service URIs.

    Orchestrators absent from the source are kept: their nodes, tokens and history
    still refer to them, and the subgraph never forgets a transcoder anyway."""
    async with pool.acquire() as conn:
        known = {
            r["address"]: r["service_uri"]
            for r in await conn.fetch("SELECT address, service_uri FROM orchestrators")
        }
    to_locate = [
        t for t in transcoders if t.address not in known or known[t.address] != t.service_uri
    ]
    locations = await _locate_all(geolocator, to_locate, progress)
    async with pool.acquire() as conn, conn.transaction():
        located = {addr: await location_id(conn, loc) for addr, loc in locations.items()}
        await conn.executemany(
            """
            INSERT INTO orchestrators
                (address, service_uri, active, status, total_stake, location_id, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, now())
            ON CONFLICT (address) DO UPDATE SET
                service_uri = excluded.service_uri,
                active = excluded.active,
                status = excluded.status,
                total_stake = excluded.total_stake,
                location_id = CASE WHEN $7 THEN excluded.location_id
                                   ELSE orchestrators.location_id END,
                updated_at = now()
            """,
            [
                (
                    t.address,
                    t.service_uri,
                    t.active,
                    t.status,
                    t.total_stake,
                    located.get(t.address),
                    t.address in located,
                )
                for t in transcoders
            ],
        )
    inserted = sum(1 for t in transcoders if t.address not in known)
    return ImportSummary(len(transcoders), inserted, len(transcoders) - inserted)


async def _locate_all(
    geolocator: Geolocator, transcoders: list[Transcoder], progress: Progress | None = None
) -> dict[str, Location]:
    gate = asyncio.Semaphore(_GEOLOCATE_CONCURRENCY)
    done = 0

    async def one(t: Transcoder) -> tuple[str, Location]:
        nonlocal done
        if not t.service_uri:
            location = UNKNOWN
        else:
            async with gate:
                location = await geolocator.locate_service_uri(t.service_uri)
        done += 1
        if progress is not None:
            progress("locating service URIs", done, len(transcoders))
        return t.address, location

    return dict(await asyncio.gather(*(one(t) for t in transcoders)))
