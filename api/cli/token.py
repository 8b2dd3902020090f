"""``lpmetrics token create`` / ``lpmetrics token revoke``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from api.cli.common import UsageError, with_database

if TYPE_CHECKING:
    import asyncpg

DEFAULT_URL = "http://127.0.0.1:8000"
SCOPES = ("read", "ingest")
"""``auth.tokens.SCOPES``, repeated so that --help need not import the token module
(tests/api/cli/test_imports.py checks they agree)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("token", help="create and revoke API and ingest tokens")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create",
        help="create a token; prints it once, then (ingest) a remote_write block",
        description="Prints the token alone on the first line (it is shown only this "
        "once); for --scope ingest a ready remote_write block for prometheus.yml follows.",
    )
    create.add_argument("--orchestrator", required=True, metavar="ADDR")
    create.add_argument("--name", required=True)
    create.add_argument("--scope", required=True, choices=SCOPES)
    create.add_argument(
        "--url",
        default=DEFAULT_URL,
        help=f"the service's public URL, for the remote_write block (default {DEFAULT_URL})",
    )
    create.set_defaults(func=run_create)
    revoke = actions.add_parser("revoke", help="revoke a token by id or by the token itself")
    revoke.add_argument("token", metavar="ID|TOKEN")
    revoke.set_defaults(func=run_revoke)


def run_create(args: argparse.Namespace) -> int:
    from api.ingest.prometheus_config import remote_write_config
    from api.ingest.sharing import shared_metrics
    from auth.tokens import TokenError, create_token

    if not args.url.startswith(("http://", "https://")):
        raise UsageError(f"--url must start with http:// or https://, not {args.url!r}")

    async def create(db: asyncpg.Pool) -> None:
        try:
            record, secret = await create_token(db, args.orchestrator, args.name, [args.scope])
        except TokenError as exc:
            raise UsageError(str(exc)) from None
        print(secret)
        if args.scope == "ingest":
            optional = sorted(await shared_metrics(db, record.orchestrator))
            print(remote_write_config(args.url, secret, optional), end="")

    with_database(create)
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    from auth.tokens import TokenError, revoke_token

    text = args.token.strip()
    which: int | str = int(text) if text.isdigit() and len(text) <= 18 else text
    shown = f"token {which}" if isinstance(which, int) else "the given token"

    async def revoke(db: asyncpg.Pool) -> None:
        try:
            revoked = await revoke_token(db, which)
        except TokenError as exc:
            raise UsageError(str(exc)) from None
        if not revoked:
            raise UsageError(f"{shown} is unknown or already revoked")
        print(f"revoked {shown}")

    with_database(revoke)
    return 0
