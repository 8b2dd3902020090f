"""The soak's report: what it measured, and whether that passes (``tests.soak.run``)."""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.soak.load import MAX_IN_FLIGHT, Readers, outside

_RECORD = re.compile(r"^(\d{4}-\d\d-\d\d |[A-Z]+:\s)")
"""The first line of a log record (ours, or uvicorn's own format)."""
GRACE = 15.0
"""Seconds after a fault in which errors are still the fault's (clients retry, pools
reconnect, the rollup catches up)."""
RSS_GROWTH_LIMIT = 0.10
RSS_MIN_SECONDS = 300.0
"""Shorter runs report RSS but do not judge it: caches are still filling then."""


@dataclass
class SoakOptions:
    seconds: float = 1800.0
    rate: float = 50.0
    orchestrators: int = 100
    fault_every: float | None = None
    keep: bool = False


@dataclass
class Sample:
    at: float  # seconds since the start
    rss_kb: int | None
    fds: int | None
    rollup_queue: int | None
    tick_lag: float | None  # seconds between the published tick and the clock's minute


@dataclass
class Run:
    options: SoakOptions
    directory: Path
    start: float = field(default_factory=time.monotonic)
    faults: list[dict] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.start


def warm_up(seconds: float) -> float:
    return min(120.0, max(30.0, seconds * 0.25))


def server_errors(log: str, keep: int = 5) -> tuple[int, list[str]]:
    """How many errors the server logged, and the first ``keep`` with their tracebacks:
    what explains a 5xx inside a fault window once the work directory is gone."""
    blocks: list[list[str]] = []
    in_error = False
    for line in log.splitlines():
        if _RECORD.match(line):  # a new log record
            in_error = " ERROR " in line or line.startswith("ERROR:")
            if in_error:
                blocks.append([line])
        elif in_error and len(blocks[-1]) < 40:
            blocks[-1].append(line)  # its traceback
    return len(blocks), ["\n".join(b) for b in blocks[:keep]]


def report(
    run: Run,
    readers: Readers,
    sent: dict[str, int],
    stored: dict[str, int],
    drained: bool,
    server_log: str = "",
) -> dict:
    windows = [(f["start"] + run.start, f["end"] + run.start + GRACE) for f in run.faults]
    calm = outside(windows)
    by_kind: dict[str, Counter[str]] = {}
    for result in readers.results:
        by_kind.setdefault(result.kind, Counter())[result.outcome] += 1
    bad_outside = Counter(r.outcome for r in readers.results if calm(r) and not _ok(r.outcome))
    latencies = sorted(r.ended - r.started for r in readers.results if calm(r))
    warmed = warm_up(run.options.seconds)
    after = [s for s in run.samples if s.at >= warmed and s.rss_kb]
    baseline = statistics.median(s.rss_kb for s in after[:3]) if after else None
    final = statistics.median(s.rss_kb for s in after[-3:]) if after else None
    growth = (final / baseline - 1) if baseline and final else None
    lags = [s.tick_lag for s in run.samples if s.tick_lag is not None]
    queues = [s.rollup_queue for s in run.samples if s.rollup_queue is not None]
    # What the server keeps of what was delivered: all but what it leaves out on
    # purpose (not allowlisted, not shared, ...). A retried batch it had stored already
    # is dropped as a duplicate and was counted once by the writer.
    left_out = sum(
        n for reason, n in sent["dropped_by_server"].items() if reason != "duplicate_batch"
    )
    expected = sent["samples"] - left_out
    lost = expected - stored["samples_in_table"]
    problems = []
    if sent["refused"]:
        problems.append(f"{sent['refused']} batches refused (4xx): lost")
    if stored["samples_recorded"] != stored["samples_in_table"]:
        problems.append("ingest_batches and samples disagree")
    if stored["duplicate_samples"]:
        problems.append(f"{stored['duplicate_samples']} samples stored twice")
    if lost:
        problems.append(
            f"delivered {sent['samples']} samples, {left_out} left out on purpose, stored"
            f" {stored['samples_in_table']}: {lost} {'lost' if lost > 0 else 'too many'}"
        )
    if bad_outside:
        problems.append(f"failed requests outside the fault windows: {dict(bad_outside)}")
    if growth is not None and growth > RSS_GROWTH_LIMIT and run.options.seconds >= RSS_MIN_SECONDS:
        problems.append(f"RSS grew {growth:.1%} after the warm-up")
    if not drained:
        problems.append("the rollup did not catch up after the run")
    if sent["exit_status"] != 0:
        problems.append(f"demo-load exited with {sent['exit_status']}")
    report = {
        "passed": not problems,
        "problems": problems,
        "minutes": run.options.seconds / 60,
        "rate": run.options.rate,
        "requests": {k: dict(v) for k, v in sorted(by_kind.items())},
        "requests_total": len(readers.results),
        "arrivals_skipped": readers.skipped,
        "keepalive_retries": readers.keepalive_retries,
        "failed_outside_faults": [
            {"at": r.started - run.start, "kind": r.kind, "outcome": r.outcome}
            for r in readers.results
            if calm(r) and not _ok(r.outcome)
        ][:50],
        "latency_outside_faults_s": {
            "p50": _quantile(latencies, 0.5),
            "p99": _quantile(latencies, 0.99),
            "max": latencies[-1] if latencies else None,
        },
        "subscriptions": readers.subscription_events,
        "samples": {"sent": sent, "stored": stored, "expected": expected, "lost": lost},
        "rollup": {
            "tick_lag_s_max": max(lags, default=None),
            "tick_lag_s_final": lags[-1] if lags else None,
            "queue_max": max(queues, default=None),
            "drained_after_run": drained,
        },
        "rss": {"baseline_kb": baseline, "final_kb": final, "growth": growth},
        "faults": run.faults,
        "timeline": [s.__dict__ for s in run.samples],
        "internal_errors_500": sum(r.outcome == "500" for r in readers.results),
        "server_errors": server_errors(server_log),
    }
    _print(report)
    return report


def _ok(outcome: str) -> bool:
    """A full answer, or one whose errors are the caller's (none should be)."""
    if outcome == "200":
        return True
    return outcome.startswith("200+") and not any(
        code in outcome for code in ("SERVICE_UNAVAILABLE", "INTERNAL_SERVER_ERROR")
    )


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(q * len(values)))]


def _print(report: dict) -> None:
    print("\n== soak report")
    print(f"{report['minutes']:.1f} min at {report['rate']:.0f} queries/s; faults:")
    for fault in report["faults"]:
        print(f"  {fault['start']:7.1f}-{fault['end']:7.1f} s  {fault['kind']}")
    print(
        f"requests ({report['requests_total']}; {report['arrivals_skipped']} arrivals skipped"
        f" with {MAX_IN_FLIGHT} in flight; {report['keepalive_retries']} keep-alive retries):"
    )
    for kind, outcomes in report["requests"].items():
        print(f"  {kind:22} {outcomes}")
    for failure in report["failed_outside_faults"]:
        print(f"  failed outside the fault windows: {failure}")
    latency = report["latency_outside_faults_s"]
    print(f"latency outside faults: p50 {latency['p50']} s, p99 {latency['p99']} s")
    print(f"subscriptions: {report['subscriptions']}")
    samples = report["samples"]
    print(f"samples: sent {samples['sent']}")
    print(f"         stored {samples['stored']}")
    print(f"rollup: {report['rollup']}")
    print("time     rss_kb   fds  queue  tick_lag_s")
    for row in report["timeline"][:: max(1, len(report["timeline"]) // 30)]:
        print(
            f"{row['at']:6.0f} {row['rss_kb'] or '-':>8} {row['fds'] or '-':>5}"
            f" {row['rollup_queue'] if row['rollup_queue'] is not None else '-':>6}"
            f" {row['tick_lag'] if row['tick_lag'] is not None else '-':>10}"
        )
    rss = report["rss"]
    growth = f"{rss['growth']:.1%}" if rss["growth"] is not None else "-"
    print(f"RSS after warm-up: {rss['baseline_kb']} kB -> {rss['final_kb']} kB ({growth})")
    count, errors = report["server_errors"]
    print(f"internal errors (500): {report['internal_errors_500']}; errors logged: {count}")
    for error in errors:
        print("  " + error.replace("\n", "\n  "))
    print("PASSED" if report["passed"] else "FAILED: " + "; ".join(report["problems"]))
