import json
from decimal import Decimal
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.core.services import Services
from api.registry.subgraph import RegistryError, apply, fetch_subgraph, parse_transcoders, read_file
from tests.support.services import serving

ADDR_A = "0x" + "a" * 40
ADDR_B = "0x" + "B" * 40


def transcoder(address: str, uri: str | None = None, **extra: object) -> dict[str, object]:
    return {
        "id": address,
        "serviceURI": uri,
        "active": True,
        "status": "Registered",
        "totalStake": "1000.5",
        **extra,
    }


async def registry_rows(services: Services) -> list[tuple]:
    rows = await services.db.fetch(
        """SELECT o.address, o.service_uri, o.active, o.status, o.total_stake,
                  l.source, l.country, l.continent, l.livepeer_region
           FROM orchestrators o LEFT JOIN locations l ON l.id = o.location_id
           ORDER BY o.address"""
    )
    return [tuple(r.values()) for r in rows]


async def test_import_file_with_exact_rows(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    path.write_text(
        json.dumps(
            {
                "data": {
                    "transcoders": [
                        transcoder(ADDR_A, "https://198.51.100.7:8935"),
                        transcoder(
                            ADDR_B,
                            "https://orch.invalid:8935",
                            active=False,
                            status="NotRegistered",
                            totalStake="0",
                        ),
                    ]
                }
            }
        )
    )
    summary = await apply(services.db, read_file(path), services.geolocator)
    assert (summary.total, summary.inserted, summary.updated) == (2, 2, 0)
    assert await registry_rows(services) == [
        (
            ADDR_A,
            "https://198.51.100.7:8935",
            True,
            "Registered",
            Decimal("1000.5"),
            "geoip",
            "DE",
            "EU",
            "FRA",
        ),
        (
            ADDR_B.lower(),
            "https://orch.invalid:8935",
            False,
            "NotRegistered",
            Decimal("0"),
            None,
            None,
            None,
            None,
        ),
    ]

    # A re-import updates in place and relocates only changed service URIs.
    again = parse_transcoders(
        {"data": {"transcoders": [transcoder(ADDR_A, "https://203.0.113.9:8935", totalStake="7")]}}
    )
    summary = await apply(services.db, again, services.geolocator)
    assert (summary.total, summary.inserted, summary.updated) == (1, 0, 1)
    rows = await registry_rows(services)
    assert rows[0] == (
        ADDR_A,
        "https://203.0.113.9:8935",
        True,
        "Registered",
        Decimal("7"),
        "geoip",
        "US",
        "NA",
        "NYC",
    )
    assert rows[1][0] == ADDR_B.lower()  # absent from the source, still registered


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("[]", "expected a JSON object with data.transcoders"),
        ('{"data": {}}', "expected a JSON object with data.transcoders as a list"),
        (
            '{"data": {"transcoders": [{"id": "0x12"}]}}',
            r"transcoders\[0\].id is not an Ethereum address",
        ),
        (
            '{"data": {"transcoders": [{"id": "0x' + "a" * 40 + '", "totalStake": "-1"}]}}',
            "not a non-negative number",
        ),
        (
            '{"data": {"transcoders": [{"id": "0x' + "a" * 40 + '", "totalStake": "lots"}]}}',
            "totalStake is not a number",
        ),
        (
            '{"data": {"transcoders": [{"id": "0x' + "a" * 40 + '", "active": "yes"}]}}',
            "active is not a boolean",
        ),
        ('{"errors": [{"message": "boom"}]}', "the subgraph answered with an error: boom"),
        ("{not json", "is not valid JSON"),
    ],
)
async def test_bad_files_change_nothing(
    services: Services, tmp_path: Path, payload: str, message: str
) -> None:
    await apply(
        services.db,
        parse_transcoders({"data": {"transcoders": [transcoder(ADDR_A)]}}),
        services.geolocator,
    )
    before = await registry_rows(services)
    path = tmp_path / "bad.json"
    path.write_text(payload)
    with pytest.raises(RegistryError, match=message):
        read_file(path)
    assert await registry_rows(services) == before


def test_missing_file() -> None:
    with pytest.raises(RegistryError, match=r"cannot read /nonexistent\.json: No such file"):
        read_file(Path("/nonexistent.json"))


def test_duplicate_addresses_are_rejected() -> None:
    with pytest.raises(RegistryError, match="listed twice"):
        parse_transcoders(
            {
                "data": {
                    "transcoders": [
                        transcoder(ADDR_A),
                        transcoder(ADDR_A.upper().replace("0X", "0x")),
                    ]
                }
            }
        )


def subgraph_app(
    all_items: list[dict], seen: list[dict], *, fail_after: int | None = None
) -> Starlette:
    async def graphql(request: Request) -> Response:
        body = await request.json()
        seen.append(body["variables"])
        if fail_after is not None and len(seen) > fail_after:
            return Response("upstream exploded", status_code=502)
        first, last = body["variables"]["first"], body["variables"]["last"]
        page = [t for t in sorted(all_items, key=lambda t: t["id"]) if t["id"] > last][:first]
        return JSONResponse({"data": {"transcoders": page}})

    return Starlette(routes=[Route("/", graphql, methods=["POST"])])


async def test_sync_pages_through_the_subgraph(services: Services) -> None:
    items = [transcoder(f"0x{i:040x}") for i in range(1, 2501)]
    seen: list[dict] = []
    async with serving(subgraph_app(items, seen)) as url:
        transcoders = await fetch_subgraph(url + "/")
    assert [v["last"] for v in seen] == ["", f"0x{1000:040x}", f"0x{2000:040x}"]
    assert all(v["first"] == 1000 for v in seen)
    summary = await apply(services.db, transcoders, services.geolocator)
    assert summary.total == 2500
    assert await services.db.fetchval("SELECT count(*) FROM orchestrators") == 2500


async def test_failed_sync_changes_nothing(services: Services) -> None:
    await apply(
        services.db,
        parse_transcoders({"data": {"transcoders": [transcoder(ADDR_A)]}}),
        services.geolocator,
    )
    before = await registry_rows(services)
    items = [transcoder(f"0x{i:040x}") for i in range(1, 2501)]
    async with serving(subgraph_app(items, [], fail_after=1)) as url:
        with pytest.raises(RegistryError, match="answered HTTP 502"):
            await fetch_subgraph(url + "/")
    assert await registry_rows(services) == before


async def test_unreachable_subgraph() -> None:
    with pytest.raises(RegistryError, match="could not be reached"):
        await fetch_subgraph("http://127.0.0.1:9/")
