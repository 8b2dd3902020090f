"""``uv run python -m tests.soak [--minutes 30] [--rate 50] [--orchestrators 100]``."""

from __future__ import annotations

import argparse
import asyncio
import sys

from tests.soak.run import SoakOptions, soak


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0, help="how long (default 30)")
    parser.add_argument("--rate", type=float, default=50.0, help="queries per second (50)")
    parser.add_argument("--orchestrators", type=int, default=100, help="demo-load's (100)")
    parser.add_argument(
        "--fault-every", type=float, default=None, help="seconds between faults (auto)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    options = SoakOptions(
        seconds=args.minutes * 60,
        rate=args.rate,
        orchestrators=args.orchestrators,
        fault_every=args.fault_every,
        keep=args.keep,
    )
    return 0 if asyncio.run(soak(options)) else 1


if __name__ == "__main__":
    sys.exit(main())
