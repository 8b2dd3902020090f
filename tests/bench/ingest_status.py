"""What the ingest status (``api.ingest.status``) costs ingest: CPU time per request of
one process serving ``/api/v1/write``, with the status recorded and without.

    uv run python tests/bench/ingest_status.py [--orchestrators 48] [--rounds 10]

Serves the app with uvicorn in this process (a fresh database on ``LPM_DATABASE_URL`` /
a key prefix on ``LPM_REDIS_URL`` when set, else embedded servers) and sends the
ingest benchmark's payloads (``tests/bench/ingest.py``: 2,000 samples per request, 8
senders). Rounds alternate between the two arms — ``off`` replaces the recorder's
methods with no-ops — so a busy machine slows both alike. CPU time (this process:
server and client) is far less inflated than wall time by other work on the machine;
PostgreSQL's and Redis' own CPU is not in it, and the status adds none to PostgreSQL.
Prints medians per arm and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from api.core.settings import load_settings  # noqa: E402
from api.http.app import create_app  # noqa: E402
from api.ingest import status  # noqa: E402
from tests.bench.ingest import (  # noqa: E402
    SCRAPE_MS,
    build_payloads,
    drop_database,
    prepare_database,
    send_all,
    servers,
)
from tests.support.services import serving  # noqa: E402

RECORDING = {name: getattr(status.StatusRecorder, name) for name in ("accepted", "stored")}


def recording(on: bool) -> None:
    for name, method in RECORDING.items():
        setattr(status.StatusRecorder, name, method if on else (lambda *a, **k: None))


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orchestrators", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=10, help="rounds per arm")
    parser.add_argument("--scrapes", type=int, default=2, help="scrapes per round")
    args = parser.parse_args()

    total = 2 * args.rounds * args.scrapes
    start_ms = (int(time.time() * 1000) - (total + 2) * SCRAPE_MS) // 1000 * 1000
    payloads = build_payloads(args.orchestrators, total + 1, 2000, start_ms)
    with tempfile.TemporaryDirectory(prefix="lpm-bench-") as tmp, servers(Path(tmp)) as urls:
        admin_url, redis_url = urls
        name = f"lpm_bench_{secrets.token_hex(4)}"
        db_url, tokens = await prepare_database(admin_url, name, args.orchestrators)
        settings = load_settings(
            database_url=db_url,
            redis_url=redis_url,
            redis_prefix=f"lpmbench:{secrets.token_hex(4)}:",
            secret="bench-" + secrets.token_hex(8),
            data_dir=Path(tmp) / "data",
            ingest_samples_per_second=10**7,
        )
        cpu: dict[bool, list[float]] = {True: [], False: []}
        try:
            async with serving(create_app(settings, workers=[])) as url:
                write = [url + "/api/v1/write"]
                await send_all(write, payloads[:1], tokens, 8)  # series created
                for i in range(2 * args.rounds):
                    on = i % 2 == 0
                    recording(on)
                    chunk = payloads[1 + i * args.scrapes : 1 + (i + 1) * args.scrapes]
                    before = time.process_time()
                    await send_all(write, chunk, tokens, 8)
                    await asyncio.sleep(status.FLUSH_EVERY_SECONDS)  # its last write too
                    requests = args.scrapes * args.orchestrators
                    cpu[on].append((time.process_time() - before) / requests * 1000)
                    print(
                        f"  round {i + 1} ({'on' if on else 'off'}): {cpu[on][-1]:.2f} ms/request"
                    )
        finally:
            recording(True)
            await drop_database(admin_url, name)
    on, off = statistics.median(cpu[True]), statistics.median(cpu[False])
    print(f"\nCPU per request (server + client in this process), medians of {args.rounds}:")
    print(f"  status recorded: {on:.2f} ms; not recorded: {off:.2f} ms; ratio {on / off:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
