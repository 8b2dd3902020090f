"""``lpmetrics demo-load``: drive a running server with simulated orchestrators.

It connects to the server's database with the same ``LPM_*`` settings as the server
(``LPM_DATABASE_URL``, or the embedded servers under ``LPM_DATA_DIR``) to import the
demo registry and mint ingest tokens, then writes through ``--url``'s
``/api/v1/write`` exactly as Prometheus would."""

from __future__ import annotations

import argparse
import logging
import re
import time
from typing import TYPE_CHECKING

from api.cli.common import UsageError, with_services
from api.cli.progress import terminal_progress

if TYPE_CHECKING:
    from api.core.services import Services

log = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:8000"
# api.demo.network's defaults, repeated so that --help need not import the demo
# (tests/api/cli/test_imports.py checks they agree).
DEFAULT_ORCHESTRATORS = 40
DEFAULT_SEED = 1
REACH_TIMEOUT_SECONDS = 10.0
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """Seconds in ``90``, ``90s``, ``30m``, ``6h`` or ``1d``."""
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 90s, 30m or 6h")
    return float(match[1]) * _UNIT[match[2]]


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "demo-load",
        help="drive a running server with simulated orchestrators",
        description="Imports a demo registry and mints ingest tokens in the server's "
        "database (same LPM_* settings as the server), then writes simulated go-livepeer "
        "metrics to --url as Prometheus remote write. Runs until --duration or Ctrl-C.",
    )
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the server (default {DEFAULT_URL})")
    parser.add_argument(
        "--orchestrators",
        type=int,
        default=DEFAULT_ORCHESTRATORS,
        metavar="N",
        help=f"registered orchestrators to simulate (default {DEFAULT_ORCHESTRATORS}; "
        "about one in nine never reports)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"the same seed gives the same network (default {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--scrape-interval",
        type=duration,
        default=15.0,
        metavar="DURATION",
        help="time between live scrapes (default 15s)",
    )
    parser.add_argument(
        "--backfill",
        type=duration,
        default=0.0,
        metavar="DURATION",
        help="history to send first, e.g. 6h (default none)",
    )
    parser.add_argument(
        "--duration",
        type=duration,
        default=None,
        metavar="DURATION",
        help="stop after scraping live this long (default: until Ctrl-C)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from api.demo.install import install
    from api.demo.network import build_network
    from api.demo.runner import DemoLoad, DemoOptions
    from api.demo.worker import wait_listening
    from api.demo.writer import RemoteWriter, Unauthorized

    if not args.url.startswith(("http://", "https://")):
        raise UsageError(f"--url must start with http:// or https://, not {args.url!r}")
    if not 1 <= args.orchestrators <= 10_000:
        raise UsageError(f"--orchestrators must be from 1 to 10000, not {args.orchestrators}")
    if not 1 <= args.scrape_interval <= 3600 or args.scrape_interval != int(args.scrape_interval):
        raise UsageError("--scrape-interval must be a whole number of seconds from 1s to 1h")
    # Backfilled scrapes at most a minute apart, so every minute has its gauge samples.
    step = args.scrape_interval * max(1, int(60 // args.scrape_interval))
    options = DemoOptions(
        orchestrators=args.orchestrators,
        seed=args.seed,
        scrape_interval=args.scrape_interval,
        backfill_seconds=args.backfill,
        backfill_step=step,
    )
    url = args.url.rstrip("/")
    network = build_network(options.orchestrators, options.seed)

    async def drive(services: Services) -> None:
        retention = services.settings.raw_retention_days
        if args.backfill > retention * 86400:
            raise UsageError(
                f"--backfill reaches further back than the raw retention of {retention} "
                "days (LPM_RAW_RETENTION_DAYS); the server would refuse those samples"
            )
        try:
            async with asyncio.timeout(REACH_TIMEOUT_SECONDS):
                await wait_listening(url)
        except TimeoutError:
            raise UsageError(f"no lpmetrics server answers at {url}") from None
        installed = await install(services, network)
        print(
            f"demo network: {len(network.orchestrators)} orchestrators "
            f"({len(network.reporting)} reporting, "
            f"{len(network.orchestrators) - len(network.reporting)} silent), "
            f"{len(network.nodes)} nodes in {', '.join(network.regions)}; "
            f"writing to {url}",
            flush=True,
        )
        until = None if args.duration is None else time.time() + args.duration
        async with RemoteWriter(url) as writer:
            with terminal_progress() as progress:
                load = DemoLoad(network, installed.tokens, writer, options, progress)
                try:
                    await load.run(until=until)
                except Unauthorized:
                    raise UsageError(
                        f"the server at {url} refused the demo's ingest tokens: it does not "
                        "use the database demo-load connected to (run both with the same "
                        "LPM_DATABASE_URL, or the same LPM_DATA_DIR for the embedded one)"
                    ) from None
            stats = writer.stats
            print(
                f"sent {stats.samples} samples in {stats.requests} requests "
                f"({stats.retries} retries, {stats.rejected} refused)"
            )

    with_services(drive)
    return 0
