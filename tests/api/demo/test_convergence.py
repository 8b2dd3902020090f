"""The demo network's byte counters, judged by the convergence model: the honest nodes
converge, the one that reports phantom work does not."""

from __future__ import annotations

import statistics
from collections import defaultdict

from api.convergence.model import Bucket, Calibration, Source, Work, fit, judge
from api.demo.network import build_network
from api.demo.simulation import NIC_RX, NIC_TX, PIXELS, SOURCE_SECONDS, Simulation

START = 1_714_521_600.0  # 2024-05-01 00:00 UTC
STEP = 60  # seconds between scrapes, as the demo's backfill
HOURS = 7
CALIBRATION_HOURS = 6
ORCHESTRATORS = 8  # three of them share NIC counters, eight nodes
WANTED = (PIXELS, SOURCE_SECONDS, NIC_RX, NIC_TX)


def increases() -> tuple[dict[tuple[str, str], dict[int, dict[str, float]]], tuple[str, str]]:
    """Per (orchestrator, node_id) and scrape, the increase of each wanted counter,
    counted like the rollup does (a series' first sample adds nothing)."""
    sim = Simulation(build_network(ORCHESTRATORS), START)
    assert sim.diverging is not None
    last: dict[tuple[str, tuple], float] = {}
    out: dict[tuple[str, str], dict[int, dict[str, float]]] = defaultdict(dict)
    for k in range(1, HOURS * 3600 // STEP + 1):
        for address, samples in sim.scrape(START + k * STEP).items():
            for labels, _ts, value in samples:
                d = dict(labels)
                if d["__name__"] not in WANTED or d.get("device") == "lo" or value != value:
                    continue
                previous = last.get((address, labels))
                last[(address, labels)] = value
                if previous is None:
                    continue
                row = out[(address, d["node_id"])].setdefault(k, {})
                inc = value - previous if value >= previous else value
                row[d["__name__"]] = row.get(d["__name__"], 0.0) + inc
    return out, sim.diverging


def _work(rows: list[dict[str, float]]) -> tuple[Work, float, float]:
    return (
        Work(
            sum(r.get(PIXELS, 0.0) for r in rows),
            sum(r.get(SOURCE_SECONDS, 0.0) for r in rows),
            STEP * len(rows),
        ),
        sum(r.get(NIC_RX, 0.0) for r in rows),
        sum(r.get(NIC_TX, 0.0) for r in rows),
    )


def test_demo_nodes_converge_but_one() -> None:
    data, diverging = increases()
    per_hour = 3600 // STEP
    calibration_end = CALIBRATION_HOURS * per_hour
    errors: dict[tuple[str, str], list[float]] = {}
    for key, scrapes in data.items():
        if not any(NIC_RX in r for r in scrapes.values()):
            continue
        history = [scrapes[k] for k in sorted(scrapes) if k <= calibration_end]
        buckets = [
            Bucket(*_work(history[i : i + 10]))  # 10-minute buckets, as calibrated
            for i in range(0, len(history), 10)
        ]
        model = fit(buckets)
        assert model is not None
        calibration = Calibration(Source.NIC, None, model.rx, model.tx)  # type: ignore[arg-type]
        hourly = []
        for end in range(calibration_end + per_hour // 2, HOURS * per_hour + 1, 5):
            work, rx, tx = _work([scrapes[k] for k in range(end - per_hour + 1, end + 1)])
            verdict = judge(calibration, work, rx + tx, 0.02)
            hourly.append(verdict.error)
        errors[key] = hourly
    assert diverging in errors and len(errors) >= 4
    for key, hourly in errors.items():
        if key == diverging:
            assert statistics.median(hourly) > 0.05, hourly
        else:
            assert statistics.median(hourly) < 0.02, (key, hourly)
