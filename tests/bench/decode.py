"""Decode + prepare CPU per request, today's path against the known-series path.

    uv run python -m tests.bench.decode [--series 2000] [--repeats 7] [--number 20]

In process, no server: the ingest benchmark's payload (``build_payloads``: one
go-livepeer scrape of ``--series`` series, one sample each, all allowlisted), the
catalog warmed with it, then each path timed on the next scrape's body (already
decompressed: snappy is the same for both). Prints the median over ``--repeats`` of
``--number`` requests each, per request and per series, with the garbage collector off
(timeit's default) and on (as in the server, where today's path also pays for the
collections its objects trigger). Both paths are checked to give the same batch first.
"""

from __future__ import annotations

import argparse
import statistics
import time
import timeit
from collections.abc import Callable

from api.geo.locate import Geolocator
from api.ingest.batch import Batch, prepare
from api.ingest.catalog import Catalog
from api.ingest.known import batch, receive
from api.remote_write import decode_v1
from api.remote_write.compression import decompress
from tests.bench.ingest import build_payloads

ORCHESTRATOR = "0x" + "1" * 40
START_MS = 1_800_000_000_000
WINDOW = {"oldest_ms": 0, "newest_ms": START_MS * 2}
SHARED: frozenset[str] = frozenset()


def today(raw: bytes, catalog: Catalog) -> Batch:
    return prepare(decode_v1(raw), ORCHESTRATOR, SHARED, catalog, **WINDOW)


def known(raw: bytes, catalog: Catalog) -> Batch:
    received = receive(raw, 1, catalog, ORCHESTRATOR)
    return batch(received, ORCHESTRATOR, SHARED, catalog, **WINDOW)


def per_request(run: Callable[[], object], repeats: int, number: int, gc: bool) -> float:
    setup = "gc.enable()" if gc else "pass"
    # CPU time of this process, not wall time: the machine may be busy with others.
    times = timeit.repeat(run, setup=setup, timer=time.process_time, repeat=repeats, number=number)
    return statistics.median(times) / number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--number", type=int, default=20)
    args = parser.parse_args()
    rounds = build_payloads(1, 2, args.series, START_MS)
    first, second = (bytes(decompress(r[0].body, max_decompressed_bytes=1 << 26)) for r in rounds)
    catalog = Catalog(b"bench-secret", Geolocator(None))
    known(first, catalog)  # first sight: decoded the full way, learned
    warm = receive(second, 1, catalog, ORCHESTRATOR)
    if warm.known is None:
        raise SystemExit("the catalog did not learn the payload's series")
    if known(second, catalog) != today(second, catalog):
        raise SystemExit("the two paths disagree on the payload")

    print(f"{'':30} {'gc off':>27}   {'gc on':>27}")
    results: dict[str, list[float]] = {}
    for name, path in (("today (decode_v1 + prepare)", today), ("known series", known)):
        results[name] = [
            per_request(lambda path=path: path(second, catalog), args.repeats, args.number, gc)
            for gc in (False, True)
        ]
        print(
            f"{name:30}"
            + "".join(
                f" {seconds * 1e3:7.3f} ms/request {seconds * 1e6 / args.series:6.3f} us/series"
                for seconds in results[name]
            )
        )
    base, fast = results.values()
    print(
        f"{'speed-up':30}"
        + "".join(f" {b / f:7.1f} x{'':21}" for b, f in zip(base, fast, strict=True))
    )


if __name__ == "__main__":
    main()
