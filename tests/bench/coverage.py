"""Cost of ``coverageGaps``' computation on a large network, in process (no database).

    uv run python -m tests.bench.coverage [--orchestrators 2000] [--places 500] [--cells 300]

Times the two parts that grow with the network, each the median of 5 runs: the
nearest-orchestrator search (every demand cell against every orchestrator place) and
the check whether the public view may learn the located total (``publishable_totals``,
once the ``origins`` audit it builds on is done; that audit's own cost, which every
public ``origins`` query pays already, is printed as the baseline). Numbers are noisy
on a shared machine: compare them within one run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

import h3

from api.coverage.gaps import Demand, cell_coverage
from api.coverage.positions import Position
from api.coverage.total import publishable_totals
from api.geo.regions import REGIONS
from api.stats.origins import Origins


def _median(fn: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orchestrators", type=int, default=2000)
    parser.add_argument("--places", type=int, default=500)
    parser.add_argument("--cells", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(1)
    cities = [(r.latitude, r.longitude) for r in REGIONS]
    positions = [
        Position(lat + rng.uniform(-2, 2), lng + rng.uniform(-2, 2), "FRA", rng.random() < 0.8)
        for lat, lng in (rng.choice(cities) for _ in range(args.places))
    ]
    cells = {
        h3.latlng_to_cell(rng.uniform(-50, 60), rng.uniform(-180, 180), 3)
        for _ in range(args.cells)
    }
    demand = {c: Demand(rng.uniform(1, 100), frozenset()) for c in cells}
    nearest = _median(lambda: cell_coverage(demand, positions))

    orchestrators = [f"o{i}" for i in range(args.orchestrators)]
    rows = {}
    for cell in cells:
        for o in rng.sample(orchestrators, rng.randint(1, 40)):
            rows[(rng.randrange(4), "DE", cell, o)] = rng.uniform(0.1, 5)

    audited = Origins(rows)

    def audit() -> None:
        Origins(rows).withheld(3, 3)

    def total() -> None:
        publishable_totals(audited, 3, 3)  # the audit's result is kept on the object

    baseline = _median(audit, 3)
    audited.withheld(3, 3)
    check = _median(total, 3)
    print(f"cells {len(cells)}, orchestrator places {len(positions)}, origin rows {len(rows)}")
    print(f"nearest orchestrator for every cell: {nearest * 1000:.1f} ms (median of 5)")
    print(f"origins audit alone (baseline):     {baseline * 1000:.1f} ms (median of 3)")
    print(f"located-total check (audit done):    {check * 1000:.1f} ms (median of 3)")


if __name__ == "__main__":
    main()
