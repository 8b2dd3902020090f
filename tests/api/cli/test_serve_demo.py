"""``lpmetrics serve --demo`` on a clean machine: nothing configured, embedded
PostgreSQL and Redis, and soon figures at every level for anonymous callers."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.services import free_port

# A bound so a broken build fails instead of hanging; the demo gets there in about
# half a minute on a laptop (most of it the six-hour backfill).
PATIENCE_SECONDS = 240

FIGURES = """currentStreams avgStreams maxStreams capacity broadcasters pixelsPerSecond
    transcodedMinutes precision coverage { reportingOrchestrators knownOrchestrators }"""
CHAIN = """verification { consistent inconsistent insufficientData }
    estimate { avgStreams { value low high } pixelsPerSecond { value low high } reason }
    coverage { feeShare }"""
QUERY = f"""{{
  network {{ {FIGURES} {CHAIN} }}
  livepeerRegions: regions(level: LIVEPEER_REGION) {{ code {FIGURES} }}
  continents: regions(level: CONTINENT) {{ code {FIGURES} }}
  countries: regions(level: COUNTRY) {{ code {FIGURES} }}
  cells: regions(level: CELL) {{ code {FIGURES} }}
  origins(level: CELL, window: LAST_DAY) {{ code pixelsPerSecond precision }}
  coverageGaps {{ cell demandShare nearestRegion precision }}
}}"""
NUMBERS = (
    "currentStreams",
    "avgStreams",
    "maxStreams",
    "capacity",
    "broadcasters",
    "pixelsPerSecond",
    "transcodedMinutes",
)


def shown(stats: dict) -> bool:
    """Coarsened for the public view, every figure there."""
    return stats["precision"] == "COARSENED" and all(stats[n] for n in NUMBERS)


def ready(data: dict | None) -> bool:
    if not data:
        return False
    regions = [r for r in data["livepeerRegions"] if shown(r)]
    # Without LPM_GEOIP_DB the demo locates its gateways itself: demand origins and
    # coverage gaps have data too.
    located = any(o["pixelsPerSecond"] for o in data["origins"])
    gaps = any(g["demandShare"] for g in data["coverageGaps"])
    # The simulated subgraph synced, and the inflating orchestrator caught (§9). Not
    # "== 1": an honest orchestrator's ticket figures can fall outside 3/sqrt(n) by chance.
    chain = data["network"]["verification"]["inconsistent"] >= 1
    return shown(data["network"]) and len(regions) >= 5 and located and gaps and chain


def test_serve_demo_has_public_figures_at_every_level(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LPM_")}
    env["LPM_DATA_DIR"] = str(tmp_path / "data")
    env["LPM_SUBGRAPH_SYNC_SECONDS"] = "10"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        answer = None
        deadline = time.monotonic() + PATIENCE_SECONDS
        while not ready(answer and answer.get("data")):
            assert proc.poll() is None, f"serve --demo exited:\n{_read(log)}"
            assert time.monotonic() < deadline, f"no figures yet; last answer: {answer}"
            time.sleep(2)
            try:
                answer = httpx.post(url + "/graphql", json={"query": QUERY}, timeout=30).json()
            except httpx.HTTPError:
                continue
            assert "errors" not in answer, answer

        data = answer["data"]
        assert data["network"]["coverage"]["reportingOrchestrators"] >= 30
        # Chain data from the demo's simulated subgraph: the honest orchestrators'
        # reports agree with it, the silent ones are inferred from their fees.
        assert data["network"]["verification"]["consistent"] >= 30
        estimate = data["network"]["estimate"]
        assert estimate["reason"] is None, estimate
        for key in ("avgStreams", "pixelsPerSecond"):
            e = estimate[key]
            assert e["low"] <= e["value"] <= e["high"]
            assert e["value"] > data["network"][key]  # silent orchestrators added
        assert 0.5 < data["network"]["coverage"]["feeShare"] < 1
        # Registered orchestrators that never report show in the coverage.
        network = data["network"]["coverage"]
        assert network["knownOrchestrators"] > network["reportingOrchestrators"]
        for level, least in (
            ("livepeerRegions", 5),
            ("continents", 4),
            ("countries", 5),
            ("cells", 5),
        ):
            visible = [r for r in data[level] if shown(r)]
            assert len(visible) >= least, (level, data[level])
            for region in visible:
                assert region["coverage"]["reportingOrchestrators"] >= 3
                # Anonymous counts come in multiples of LPM_PUBLIC_COUNT_BIN (8).
                assert region["currentStreams"] % 8 == region["capacity"] % 8 == 0
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    output = _read(log)
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    assert "demo: backfilled 6.0 h" in output


def _read(log) -> str:
    log.flush()
    log.seek(0)
    return log.read()
