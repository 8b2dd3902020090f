"""Benchmark of the public view's disclosure control (not collected by pytest).

    uv run python -m tests.bench.disclosure [--orchestrators 2000] [--nodes 3000]
        [--places 300] [--resolution 3] [--seed 1] [--runs 3]
    uv run python -m tests.bench.disclosure --series [--orchestrators 100] [--nodes 150]
        [--churn 0.02]

Scatters places around real cities of 40 countries, puts nodes in them with a skew
(a few data-centre cities hold most of them), gives every node a chance to be silent
in each window slice, and times ``protect`` on the tick's two audited tables (current,
one window; window figures, four windows) with the public groupings up to the given
H3 resolution, twice: the greedy (``api.disclosure.audit.protect``, the choice before
issue #10) and the least complementary suppression (``api.disclosure.milp``). Prints
the median time per tick over ``--runs``, whether the solver proved its optimum (and
its lower bound where not), and per level and window the cells withheld by primary
suppression, by complementary suppression, and the share of the window's
orchestrators whose figure at that level is hidden from the public.

``--series`` times the public series' disclosure control instead
(``api.stats.series_disclosure``) against a real database: it creates ``lpm_bench_series``
on ``LPM_DATABASE_URL`` (default: the local server), writes 30 days of hourly rows for
the nodes in 4 places around each of ``tests.bench.query.METROS`` (each node silent in
any hour with probability ``--churn``), and times the first (memo empty) and a second
request of a 24-point and a 720-point hourly series and of a 30-day series at step
86400, steady (no churn) and churning.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import h3

from api.disclosure.audit import Table, protect
from api.disclosure.milp import BUDGET, Solution, withhold
from api.geo.grouping import NETWORK, Grouping, Level, grouping
from api.geo.regions import continent_of, nearest_region
from api.stats.snapshot import public_groupings
from api.stats.windows import WINDOWS

CITIES = [
    (50.11, 8.68, "DE"), (52.52, 13.40, "DE"), (48.14, 11.58, "DE"), (50.08, 14.44, "CZ"),
    (48.86, 2.35, "FR"), (45.76, 4.84, "FR"), (51.51, -0.13, "GB"), (53.48, -2.24, "GB"),
    (52.37, 4.90, "NL"), (50.85, 4.35, "BE"), (47.38, 8.54, "CH"), (48.21, 16.37, "AT"),
    (52.23, 21.01, "PL"), (59.33, 18.07, "SE"), (60.17, 24.94, "FI"), (40.42, -3.70, "ES"),
    (41.90, 12.50, "IT"), (38.72, -9.14, "PT"), (55.76, 37.62, "RU"), (50.45, 30.52, "UA"),
    (40.71, -74.00, "US"), (41.88, -87.63, "US"), (34.05, -118.24, "US"), (37.34, -121.89, "US"),
    (47.61, -122.33, "US"), (33.75, -84.39, "US"), (29.76, -95.37, "US"), (25.76, -80.19, "US"),
    (43.65, -79.38, "CA"), (45.50, -73.57, "CA"), (19.43, -99.13, "MX"), (-23.55, -46.63, "BR"),
    (-34.60, -58.38, "AR"), (1.35, 103.82, "SG"), (35.68, 139.65, "JP"), (37.57, 126.98, "KR"),
    (-33.87, 151.21, "AU"), (19.08, 72.88, "IN"), (25.20, 55.27, "AE"), (-26.20, 28.05, "ZA"),
]  # fmt: skip


def build(
    rng: random.Random, orchestrators: int, nodes: int, places: int, groupings: list[Grouping]
) -> tuple[Table, Table]:
    codes: dict[int, dict[Grouping, str]] = {0: {NETWORK: ""}}
    for place in range(1, places + 1):
        lat, lng, country = rng.choice(CITIES)
        lat, lng = lat + rng.uniform(-2, 2), lng + rng.uniform(-2, 2)
        by = {NETWORK: "", grouping(Level.COUNTRY): country}
        if (continent := continent_of(country)) is not None:
            by[grouping(Level.CONTINENT)] = continent
        by[grouping(Level.LIVEPEER_REGION)] = nearest_region(lat, lng)
        for g in groupings:
            if g.level is Level.CELL:
                by[g] = h3.latlng_to_cell(lat, lng, g.resolution)  # type: ignore[arg-type]
        codes[place] = by
    weights = [1 / (i + 1) for i in range(places + 1)]  # Zipf: a few busy cities
    where = rng.choices(range(places + 1), weights, k=nodes)
    owner = [f"o{rng.randrange(orchestrators) if i >= orchestrators else i}" for i in range(nodes)]
    now: dict[int, set[str]] = {}
    slices: list[dict[int, set[str]]] = [{} for _ in range(4)]
    for node in range(nodes):
        if rng.random() < 0.8:
            now.setdefault(where[node], set()).add(owner[node])
        for s, part in enumerate(slices):
            if rng.random() < (0.8, 0.9, 0.95, 0.97)[s]:
                part.setdefault(where[node], set()).add(owner[node])
    current = Table(codes, [{a: frozenset(w) for a, w in now.items()}], [(0,)])
    frozen = [{a: frozenset(w) for a, w in part.items()} for part in slices]
    window = Table(codes, frozen, [tuple(range(i + 1)) for i in range(4)])
    return current, window


SERIES_DATABASE = "lpm_bench_series"
SERIES_TICK = datetime(2024, 5, 31, 0, 0, tzinfo=UTC)


async def bench_series(orchestrators: int, nodes: int, churn: float, seed: int) -> None:
    import asyncpg

    from api.core.migrate import migrate
    from api.stats import series, series_disclosure
    from api.stats.load import read
    from tests.bench.query import METROS, _with_database
    from tests.support.rollup_rows import add_node, add_orchestrator, add_place

    admin_url = os.environ.get("LPM_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{SERIES_DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{SERIES_DATABASE}"')
        pool = await asyncpg.create_pool(
            _with_database(admin_url, SERIES_DATABASE), min_size=1, max_size=2
        )
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
            rng = random.Random(seed)
            places = [
                await add_place(pool, lat + rng.uniform(-0.4, 0.4), lng + rng.uniform(-0.4, 0.4), c)
                for lat, lng, c in METROS
                for _ in range(4)
            ]
            owners = [f"0x{i:040x}" for i in range(orchestrators)]
            for address in owners:
                await add_orchestrator(pool, address)
            where = []
            for i in range(nodes):
                node = await add_node(pool, owners[i % orchestrators], f"node-{i}")
                metro = (i % orchestrators) % len(METROS)
                if i >= orchestrators and i % 3 == 0:  # as tests.bench.query: some far away
                    metro = (i * 7) % len(METROS)
                where.append(
                    (node, owners[i % orchestrators], places[metro * 4 + rng.randrange(4)])
                )
            hours = [SERIES_TICK - timedelta(hours=h) for h in range(1, 721)]
            for label, silent in (("steady", 0.0), (f"{churn:.0%} churn", churn)):
                await pool.execute("TRUNCATE stats_node_hours")
                records = [
                    (
                        hour,
                        node,
                        place,
                        owner,
                        60,
                        60,
                        120.0,
                        2.0,
                        60,
                        600.0,
                        1.0,
                        1.0,
                        1.0,
                        True,
                        False,
                    )
                    for hour in hours
                    for node, owner, place in where
                    if rng.random() >= silent
                ]
                await pool.copy_records_to_table("stats_node_hours", records=records)
                for hours_back, step in ((24, 3600), (720, 3600), (720, 86400)):
                    req = series.request(
                        series.Metric.STREAMS,
                        NETWORK,
                        "",
                        SERIES_TICK - timedelta(hours=hours_back),
                        SERIES_TICK,
                        step,
                    )
                    series_disclosure._RESULTS.clear()
                    times = []
                    for _ in range(2):
                        start = time.perf_counter()
                        found = await read(
                            pool, series_disclosure._withheld, req, SERIES_TICK, 3, 3
                        )
                        times.append(time.perf_counter() - start)
                    withheld = sum(len(v) for v in found.values()) / len(found)
                    print(
                        f"{label}, {hours_back // (step // 3600)} points of {step} s:"
                        f" first {times[0]:.2f} s, second {times[1]:.2f} s;"
                        f" {withheld:.0f} regions withheld per bucket"
                    )
        finally:
            await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{SERIES_DATABASE}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orchestrators", type=int, default=2000)
    parser.add_argument("--nodes", type=int, default=3000)
    parser.add_argument("--places", type=int, default=300)
    parser.add_argument("--resolution", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--series", action="store_true", help="time the series' control")
    parser.add_argument("--churn", type=float, default=0.02)
    parser.add_argument("--budget", type=float, default=BUDGET, help="solver s per table")
    args = parser.parse_args()
    if args.series:
        orchestrators = 100 if args.orchestrators == 2000 else args.orchestrators
        nodes = 150 if args.nodes == 3000 else args.nodes
        asyncio.run(bench_series(orchestrators, nodes, args.churn, args.seed))
        return
    groupings = public_groupings(args.resolution)
    current, window = build(
        random.Random(args.seed), args.orchestrators, args.nodes, args.places, groupings
    )
    regions = {(g, c) for by in current.codes.values() for g, c in by.items()}
    print(f"{len(regions)} regions, k = {args.k}; median of {args.runs} runs")
    tables = {"current": current, "window": window}
    greedy_times, milp_times = [], []
    solutions: dict[str, Solution] = {}
    greedy: dict[str, set] = {}
    runs: dict[str, list[Solution]] = {name: [] for name in tables}
    for _ in range(args.runs):
        start = time.perf_counter()
        for name, table in tables.items():
            greedy[name] = protect(table, groupings, args.k)
        greedy_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        for name, table in tables.items():
            solutions[name] = withhold(table, groupings, args.k, budget=args.budget)
            runs[name].append(solutions[name])
        milp_times.append(time.perf_counter() - start)
    for name, table in tables.items():
        solution = solutions[name]
        primary = solution.primary
        print(
            f"\n{name}: {len(table.windows) * len(regions)} cells, {len(primary)} primary;"
            " last run:"
            f" complementary: greedy {len(greedy[name] - primary)},"
            f" MILP {len(solution.cells - primary)} ({solution.method},"
            f" {'optimum proven' if solution.proven else 'not proven'},"
            f" cost {solution.cost or 0:.1f}, lower bound {solution.bound or 0:.1f},"
            f" {solution.rounds} rounds, {solution.seconds:.2f} s{_notes(solution)})"
        )
        print(
            "  every run: "
            + ", ".join(
                f"{len(r.cells - r.primary)}"
                f" ({'proven' if r.proven else r.method + ' unproven'}, {r.seconds:.2f} s)"
                for r in runs[name]
            )
        )
        print(f"  {'window':<12} {'level':<16} primary  compl. greedy/MILP  hidden O's greedy/MILP")
        for w in range(len(table.windows)):
            label = "now" if name == "current" else WINDOWS[w].name
            for g in groupings:
                p = sum(1 for v, h, _ in primary if v == w and h == g)
                extra = [
                    sum(1 for v, h, _ in cells - primary if v == w and h == g)
                    for cells in (greedy[name], solution.cells)
                ]
                shares = [
                    hidden_share(table, w, g, cells) for cells in (greedy[name], solution.cells)
                ]
                print(
                    f"  {label:<12} {g.key:<16} {p:>7}  {extra[0]:>6} / {extra[1]:<6}"
                    f"  {shares[0]:>9.0%} / {shares[1]:.0%}"
                )
    print(
        f"\nper tick (current + window): greedy {statistics.median(greedy_times) * 1000:.0f} ms,"
        f" MILP {statistics.median(milp_times) * 1000:.0f} ms (budget {args.budget} s per table)"
    )


def _notes(solution: Solution) -> str:
    return "; " + ", ".join(solution.notes) if solution.notes else ""


def hidden_share(table: Table, w: int, g: Grouping, cells: set) -> float:
    """The share of window ``w``'s orchestrators whose figure at grouping ``g`` (the
    region of a place they report from) is withheld."""
    everyone: set[str] = set()
    hidden: set[str] = set()
    for s in table.windows[w]:
        for atom, who in table.parts[s].items():
            everyone |= who
            code = table.codes[atom].get(g)
            if code is not None and (w, g, code) in cells:
                hidden |= who
    return len(hidden) / len(everyone) if everyone else 0.0


if __name__ == "__main__":
    main()
