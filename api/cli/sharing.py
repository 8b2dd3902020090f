"""``lpmetrics sharing set`` / ``lpmetrics sharing show``: which optional metrics an
orchestrator shares beyond the required set."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from api.cli.common import UsageError, with_database
from api.ingest.allowlist import OPTIONAL, REQUIRED, UnknownMetric

if TYPE_CHECKING:
    import asyncpg


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sharing", help="choose the optional metrics an orchestrator shares")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    set_ = actions.add_parser(
        "set",
        help="share exactly the given optional metrics (none without --optional)",
        description="Required metrics are always kept: " + ", ".join(REQUIRED) + ".",
    )
    set_.add_argument("--orchestrator", required=True, metavar="ADDR")
    set_.add_argument(
        "--optional",
        nargs="*",
        default=[],
        metavar="METRIC",
        help="optional metrics to share: " + ", ".join(OPTIONAL),
    )
    set_.set_defaults(func=run_set)
    show = actions.add_parser("show", help="print the optional metrics an orchestrator shares")
    show.add_argument("--orchestrator", required=True, metavar="ADDR")
    show.set_defaults(func=run_show)


def _address(text: str) -> str:
    from auth.tokens import TokenError, normalize_address

    try:
        return normalize_address(text)
    except TokenError as exc:
        raise UsageError(str(exc)) from None


def run_set(args: argparse.Namespace) -> int:
    from api.ingest.sharing import NotRegistered, set_shared_metrics

    address = _address(args.orchestrator)

    async def store(db: asyncpg.Pool) -> None:
        try:
            shared = await set_shared_metrics(db, address, args.optional)
        except (UnknownMetric, NotRegistered) as exc:
            raise UsageError(str(exc)) from None
        print(f"{address} shares the required metrics and: {', '.join(shared) or 'nothing else'}")

    with_database(store)
    return 0


def run_show(args: argparse.Namespace) -> int:
    from api.ingest.sharing import shared_metrics

    address = _address(args.orchestrator)

    async def show(db: asyncpg.Pool) -> None:
        for name in sorted(await shared_metrics(db, address)):
            print(name)

    with_database(show)
    return 0
