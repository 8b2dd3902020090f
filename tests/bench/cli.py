"""CLI benchmark: how long ``lpmetrics --help`` and ``lpmetrics token create`` take,
against ``python -c pass`` (the interpreter's own start) measured in the same run.

    uv run python tests/bench/cli.py [--rounds 9] [--cold] [--tree DIR]

``token create`` runs against a real database: a fresh one on ``LPM_DATABASE_URL``
when set, else an embedded PostgreSQL in a temporary directory, with one registered
orchestrator. The three commands are run in turn, round after round, so a busy machine
slows them alike; medians are printed with the targets (``--help`` <= 0.5 s,
``token create`` <= 1.5 s), of the wall time and of the CPU time (user + system) of
each command, which a machine shared with other work inflates less.

Commands run as ``python -m api.cli`` from ``--tree`` (default: this checkout), so an
older checkout can be timed with the same interpreter. By default the bytecode cache
is written on a first, untimed round (what every run after an install sees);
``--cold`` times them with no bytecode cache at all (every module compiled each time).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.ingest import drop_database, server_env, servers  # noqa: E402

ADDRESS = "0x" + "be" * 20
TARGETS = {"--help": 0.5, "token create": 1.5}


async def create_database(admin_url: str, name: str) -> str:
    import asyncpg

    from api.core.migrate import migrate

    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        await conn.execute("INSERT INTO orchestrators (address) VALUES ($1)", ADDRESS)
    finally:
        await conn.close()
    return url


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], tree: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``command``."""
    cpu, start = _cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {done.returncode}: {done.stderr}")
    return took, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--cold", action="store_true", help="no bytecode cache")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout to time")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="lpm-bench-cli-") as tmp_name,
        servers(Path(tmp_name)) as (admin_url, redis_url),
    ):
        tmp = Path(tmp_name)
        name = f"lpm_bench_cli_{secrets.token_hex(4)}"
        db_url = asyncio.run(create_database(admin_url, name))
        env = server_env(db_url, redis_url, tmp / "data", dropped=("LPM_", "PYTHON"))
        if args.cold:
            env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=str(tmp / "no-pycache"))
        python = sys.executable
        create = [python, "-m", "api.cli", "token", "create", "--orchestrator", ADDRESS]
        commands = {
            "python -c pass": lambda i: [python, "-c", "pass"],
            "--help": lambda i: [python, "-m", "api.cli", "--help"],
            "token create": lambda i: [*create, "--name", f"bench {i}", "--scope", "ingest"],
        }
        times: dict[str, list[float]] = {label: [] for label in commands}
        cpus: dict[str, list[float]] = {label: [] for label in commands}
        try:
            if not args.cold:  # write the bytecode cache, as any first run does
                for command in commands.values():
                    timed(command(-1), args.tree, env)
            for i in range(args.rounds):
                for label, command in commands.items():
                    wall, cpu = timed(command(i), args.tree, env)
                    times[label].append(wall)
                    cpus[label].append(cpu)
                print(
                    f"  round {i + 1}: "
                    + ", ".join(f"{label} {t[-1]:.2f} s" for label, t in times.items()),
                    flush=True,
                )
        finally:
            asyncio.run(drop_database(admin_url, name))

    floor = statistics.median(times["python -c pass"])
    print(f"\n{args.tree} ({'no bytecode cache' if args.cold else 'bytecode cached'}):")
    for label, values in times.items():
        median = statistics.median(values)
        target = TARGETS.get(label)
        verdict = (
            ""
            if target is None
            else f"  target <= {target} s: " + ("met" if median <= target else "MISSED")
        )
        print(
            f"  {label:>15}: median {median:.3f} s (min {min(values):.3f}, "
            f"max {max(values):.3f}; {median - floor:+.3f} s over the floor), "
            f"CPU median {statistics.median(cpus[label]):.3f} s{verdict}"
        )


if __name__ == "__main__":
    main()
