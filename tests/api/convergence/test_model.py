"""The model itself (``api.convergence.model``): fitting, judging, choosing a source."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.convergence.model import (
    Bucket,
    Calibration,
    Observed,
    Source,
    Status,
    Work,
    fit,
    judge,
    verdict,
)

AT = datetime(2024, 5, 1, tzinfo=UTC)


def buckets(background: float = 0.0) -> list[Bucket]:
    out = []
    for i in range(60):
        streams_a, streams_b = i % 7, (i * 3) % 5
        src = 600.0 * (streams_a + streams_b)
        px = 600.0 * (27.6 * streams_a + 62.2 * streams_b)
        work = Work(px, src, 600.0)
        out.append(Bucket(work, 500_000 * src + background * 600, 6_250 * px + background * 600))
    return out


def test_fit_recovers_the_physics_and_the_background() -> None:
    model = fit(buckets(background=100_000))
    assert model is not None
    assert model.rx == pytest.approx((0.0, 500_000, 100_000), abs=1e-3, rel=1e-6)
    assert model.tx == pytest.approx((6_250, 0.0, 100_000), abs=1e-3, rel=1e-6)
    assert model.fit_error == pytest.approx(0, abs=1e-9)


def test_without_the_time_term_background_traffic_would_diverge() -> None:
    # What the time term is for: the same history fitted on work alone is off by more
    # than the tolerance in quiet buckets, the ones where background traffic dominates.
    data = buckets(background=100_000)
    quiet = [b for b in data if b.work.source_seconds <= 600 * 2]
    model = fit(data)
    assert model is not None
    no_time = Calibration(Source.NIC, AT, (*model.rx[:2], 0.0), (*model.tx[:2], 0.0))
    with_time = Calibration(Source.NIC, AT, model.rx, model.tx)
    for b in quiet:
        measured = b.rx_bytes + b.tx_bytes
        assert judge(with_time, b.work, measured, 0.02).status is Status.CONVERGED
        assert judge(no_time, b.work, measured, 0.02).status is Status.DIVERGED


def test_no_work_no_model() -> None:
    idle = [Bucket(Work(0, 0, 600), 1e6, 1e6) for _ in range(50)]
    assert fit(idle) is None
    assert fit([]) is None


def test_judge() -> None:
    model = Calibration(Source.PORT, AT, (0, 1, 0), (0, 0, 1))
    work = Work(0, 100, 10)  # expects 100 + 10 bytes
    v = judge(model, work, 112, 0.02)
    assert (v.status, v.expected_bytes, v.source, v.calibrated_at) == (
        Status.CONVERGED,
        110,
        Source.PORT,
        AT,
    )
    assert v.error == pytest.approx(2 / 112)
    assert judge(model, work, 100, 0.02).status is Status.DIVERGED
    # Nothing measured: only converged when nothing was expected either.
    assert judge(model, Work(0, 0, 0), 0, 0.02).status is Status.CONVERGED
    nothing = judge(model, work, 0, 0.02)
    assert nothing.status is Status.DIVERGED and nothing.error is None


def test_the_preferred_calibrated_source_decides() -> None:
    nic = Calibration(Source.NIC, AT, (0, 1, 0), (0, 0, 0))
    port = Calibration(Source.PORT, AT, (0, 1, 0), (0, 0, 0))
    seen = {
        Source.NIC: Observed(Work(0, 100, 60), 150, 0),  # 50 % off
        Source.PORT: Observed(Work(0, 100, 60), 100, 0),  # exact
    }
    assert verdict(seen, {Source.NIC: nic, Source.PORT: port}, 0.02).source is Source.PORT
    # The port model is not ready yet: the NIC's decides meanwhile.
    fallback = verdict(seen, {Source.NIC: nic}, 0.02)
    assert (fallback.source, fallback.status) == (Source.NIC, Status.DIVERGED)
    waiting = verdict(seen, {}, 0.02)
    assert (waiting.status, waiting.source, waiting.measured_bytes) == (
        Status.CALIBRATING,
        Source.PORT,
        100,
    )
    assert verdict({}, {Source.NIC: nic}, 0.02).status is Status.NO_SOURCE
