"""``lpmetrics registry import FILE`` / ``lpmetrics registry sync``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from api.cli.common import UsageError, with_services
from api.cli.progress import terminal_progress

if TYPE_CHECKING:
    from api.core.services import Services
    from api.registry.subgraph import ImportSummary


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("registry", help="manage the registry of orchestrators")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = actions.add_parser("import", help="import a subgraph-shaped JSON file")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=run_import)
    sync = actions.add_parser("sync", help="sync from the Livepeer subgraph")
    sync.add_argument("--subgraph-url", help="GraphQL endpoint (default: LPM_SUBGRAPH_URL)")
    sync.set_defaults(func=run_sync)


def run_import(args: argparse.Namespace) -> int:
    from api.registry.subgraph import RegistryError, apply, read_file

    try:
        transcoders = read_file(args.file)
    except RegistryError as exc:
        raise UsageError(f"registry unchanged: {exc}") from None

    async def store(services: Services) -> None:
        with terminal_progress() as progress:
            summary = await apply(services.db, transcoders, services.geolocator, progress)
        print(f"imported {_counts(summary)}")

    with_services(store)
    return 0


def run_sync(args: argparse.Namespace) -> int:
    import asyncio

    from api.core.settings import load_settings
    from api.registry.subgraph import RegistryError, apply, fetch_subgraph

    settings = load_settings()
    url = args.subgraph_url or settings.subgraph_url
    if not url:
        raise UsageError("no subgraph URL: pass --subgraph-url or set LPM_SUBGRAPH_URL")
    # Fetch before starting anything: an unreachable subgraph needs no database.
    try:
        with terminal_progress() as progress:
            transcoders = asyncio.run(fetch_subgraph(url, progress=progress))
    except RegistryError as exc:
        raise UsageError(f"registry unchanged: {exc}") from None

    async def store(services: Services) -> int:
        with terminal_progress() as progress:
            summary = await apply(services.db, transcoders, services.geolocator, progress)
        print(f"synced {_counts(summary)}")
        return await _sync_redemptions(services, url)

    return with_services(store, settings)


async def _sync_redemptions(services: Services, url: str) -> int:
    """Winning-ticket redemptions too (DESIGN §9); the registry is kept either way."""
    import httpx

    from api.chain.subgraph import SubgraphClient, SubgraphError
    from api.chain.sync import record_failure, sync_redemptions

    async with httpx.AsyncClient(timeout=30) as http:
        try:
            result = await sync_redemptions(services.db, SubgraphClient(url, http), services.secret)
        except SubgraphError as exc:
            await record_failure(services.db, str(exc))
            print(f"redemptions not synced (resumes from where it stopped): {exc}")
            return 1
    more = "" if result.reached_head else " (more remain: run again)"
    print(f"synced {result.stored} new winning-ticket redemptions{more}")
    return 0


def _counts(summary: ImportSummary) -> str:
    return f"{summary.total} orchestrators ({summary.inserted} new, {summary.updated} updated)"
