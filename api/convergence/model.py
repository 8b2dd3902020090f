"""The convergence model: bytes a node's traffic counters should show for the work
its go-livepeer reports (docs/convergence.md).

go-livepeer exports no byte counters, so bytes are inferred from its work figures.
Per node and direction, bytes over a stretch of time are modelled as

    bytes ≈ a · million pixels processed + b · seconds of source video + c · seconds elapsed

with a, b, c ≥ 0 fitted by non-negative least squares on the node's own history: the
pixels term carries the renditions sent back, the source term the segments received,
the time term traffic at a steady rate that has nothing to do with transcoding (the
OS, monitoring, other services on the NIC). Non-negative, because no work makes a node
*lose* bytes: a negative coefficient would only fit noise.

A window's error is |measured - expected| / measured over received plus transmitted
bytes. This module is pure (no I/O) so the model can be tested on scripted histories.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


class Status(Enum):
    CONVERGED = "CONVERGED"
    DIVERGED = "DIVERGED"
    CALIBRATING = "CALIBRATING"
    NO_SOURCE = "NO_SOURCE"


class Source(Enum):
    PORT = "PORT"
    """Per-port counters (nftables, through node_exporter's textfile collector)."""
    NIC = "NIC"
    """node_exporter's network interface counters (every device but lo)."""


PREFERENCE: tuple[Source, ...] = (Source.PORT, Source.NIC)
"""Port counters see only the orchestrator's traffic, so they win when present."""


@dataclass(frozen=True, slots=True)
class Work:
    """What the model is fed for a stretch of time: the work go-livepeer reported and
    the time the byte counters covered (only minutes the source has data for)."""

    mil_pixels: float
    source_seconds: float
    seconds: float

    def vector(self) -> tuple[float, float, float]:
        return (self.mil_pixels, self.source_seconds, self.seconds)


@dataclass(frozen=True, slots=True)
class Bucket:
    """A stretch of history: the work and the bytes counted in it."""

    work: Work
    rx_bytes: float
    tx_bytes: float


Coefficients = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class Fit:
    rx: Coefficients
    tx: Coefficients
    fit_error: float
    """Relative error of the fit on its own history."""


def _nnls(x: np.ndarray, y: np.ndarray) -> Coefficients:
    import numpy as np
    from scipy.optimize import nnls  # imported on first fit: slow, and only calibration needs it

    # Columns differ by orders of magnitude (pixels in millions, seconds); scaling
    # them to a common size keeps the solver well conditioned. A zero column keeps 0.
    scale = np.abs(x).max(axis=0)
    scale[scale == 0] = 1.0
    solution, _ = nnls(x / scale, y)
    a, b, c = (solution / scale).tolist()
    return (a, b, c)


def fit(buckets: Sequence[Bucket]) -> Fit | None:
    """The model of a node's history, or None when it cannot be fitted (no history, or
    no work in it: traffic of an idle node says nothing about what work costs)."""
    if not buckets or not any(b.work.mil_pixels > 0 or b.work.source_seconds > 0 for b in buckets):
        return None
    import numpy as np  # with scipy, only when fitting (server start stays quick)

    x = np.array([b.work.vector() for b in buckets], dtype=float)
    rx = np.array([b.rx_bytes for b in buckets], dtype=float)
    tx = np.array([b.tx_bytes for b in buckets], dtype=float)
    rx_coef, tx_coef = _nnls(x, rx), _nnls(x, tx)
    total = float(rx.sum() + tx.sum())
    if total <= 0:
        return None
    residual = np.abs(x @ np.array(rx_coef) - rx).sum() + np.abs(x @ np.array(tx_coef) - tx).sum()
    return Fit(rx_coef, tx_coef, float(residual) / total)


@dataclass(frozen=True, slots=True)
class Calibration:
    """A node's fitted model for one source, as stored."""

    source: Source
    calibrated_at: datetime
    rx: Coefficients
    tx: Coefficients

    def expected(self, work: Work) -> float:
        """Bytes received plus transmitted that ``work`` should have taken."""
        w = work.vector()
        return sum(c * v for c, v in zip(self.rx, w, strict=True)) + sum(
            c * v for c, v in zip(self.tx, w, strict=True)
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    source: Source | None = None
    measured_bytes: float | None = None
    expected_bytes: float | None = None
    error: float | None = None
    """|measured - expected| / measured; None when undefined (nothing measured)."""
    calibrated_at: datetime | None = None


def judge(calibration: Calibration, work: Work, measured: float, tolerance: float) -> Verdict:
    """Compare a window's measured bytes with what the calibration expects."""
    expected = calibration.expected(work)
    if measured > 0:
        error: float | None = abs(measured - expected) / measured
        converged = error <= tolerance
    else:
        # Nothing counted: converged only if nothing was expected either.
        error = None if expected > 0 else 0.0
        converged = expected <= 0
    if error is not None and not math.isfinite(error):
        error = None
    return Verdict(
        Status.CONVERGED if converged else Status.DIVERGED,
        calibration.source,
        measured,
        expected,
        error,
        calibration.calibrated_at,
    )


@dataclass(frozen=True, slots=True)
class Observed:
    """One source's figures of a node over a window."""

    work: Work
    rx_bytes: float
    tx_bytes: float

    @property
    def measured(self) -> float:
        return self.rx_bytes + self.tx_bytes


def verdict(
    observed: dict[Source, Observed],
    calibrations: dict[Source, Calibration],
    tolerance: float,
) -> Verdict:
    """A node's verdict for a window from what each source observed in it.

    The preferred source with both data and a calibration decides; a source with data
    but no calibration yet makes the node CALIBRATING (a node adding port counters is
    judged on its NIC until the port model is ready); no data at all is NO_SOURCE."""
    present = [s for s in PREFERENCE if s in observed and observed[s].work.seconds > 0]
    for source in present:
        calibration = calibrations.get(source)
        if calibration is not None:
            seen = observed[source]
            return judge(calibration, seen.work, seen.measured, tolerance)
    if present:
        seen = observed[present[0]]
        return Verdict(Status.CALIBRATING, present[0], measured_bytes=seen.measured)
    return Verdict(Status.NO_SOURCE)
