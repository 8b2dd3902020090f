"""``lpmetrics schema``: print the GraphQL SDL (``schema.graphql`` is its output)."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("schema", help="print the GraphQL schema (SDL)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from resolvers.schema import sdl

    sys.stdout.write(sdl())
    return 0
