"""``lpmetrics migrate``: bring the database schema up to date."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from api.cli.common import with_services

if TYPE_CHECKING:
    from api.core.services import Services


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("migrate", help="apply pending database migrations")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    async def report(services: Services) -> None:
        version = await services.db.fetchval("SELECT max(version) FROM schema_migrations")
        print(f"database schema at version {version}")

    with_services(report)
    return 0
