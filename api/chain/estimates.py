"""Whole-network and per-region estimates from on-chain fees (DESIGN §9).

The reporting orchestrators' figures are counted as reported. Each *non-reporting*
known orchestrator is inferred from its on-chain fees: what the reporting ones did per
ETH of fees, applied to its fees.

* Fees ``f`` are the face value of winning tickets redeemed to an orchestrator over
  the 30 days before the chain data's end (a stable measure of its share of paid work;
  a window of an hour holds too few winning tickets to say anything).
* The basis is every orchestrator reporting in the window whose reports are not
  INCONSISTENT with the chain and that earned fees: ``R = ΣX / Σf`` for each figure X
  (avgStreams, pixelsPerSecond, transcodedMinutes in the window), i.e. pixels per ETH,
  and streams per ETH = pixels per ETH * streams per pixel.
* estimate = reported + R * (fees of the region's non-reporting known orchestrators).
* Interval: ``DRAWS`` draws that give every non-reporting orchestrator the ratio of a
  basis orchestrator drawn with probability ∝ its fees (whose mean is R); low and high
  are the 5th and 95th percentiles. It says how much the answer depends on which
  orchestrators the non-reporting ones resemble.

Null with a reason when there is no chain data, it is stale, or the basis has fewer
than ``MIN_BASIS`` orchestrators. ``feeShare``: reporting orchestrators' share of the
region's on-chain fees (a reporting orchestrator's fees split over regions by where
its pixels were).
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from api.chain.onchain import Db, redeemed, sync_state, unavailable_reason
from api.chain.verification import Status
from api.geo.grouping import Grouping
from api.stats.figures import Figures, code_of
from api.stats.load import Usage
from api.stats.snapshot import Snapshot
from api.stats.windows import Window

FEE_PERIOD = timedelta(days=30)
STALE = timedelta(hours=6)
MIN_BASIS = 3
DRAWS = 1000
LOW, HIGH = 5, 95
METHOD = (
    "reported + non-reporting known orchestrators' 30-day on-chain fees * the reporting"
    " orchestrators' figure per ETH of fees (pixels per ETH, streams per pixel); 90 %"
    " interval from 1,000 draws of basis orchestrators' ratios, fee-weighted"
)
FIGURES = ("avg_streams", "pixels_per_second", "transcoded_minutes")


@dataclass(frozen=True, slots=True)
class ChainBasis:
    """The chain side of the estimates at one tick."""

    reason: str | None
    fees: dict[str, float]  # ETH over FEE_PERIOD, by recipient
    statuses: dict[str, Status]
    end: datetime | None


async def load_basis(db: Db, tick: datetime, statuses: dict[str, Status]) -> ChainBasis:
    """``statuses``: the verification status of each reporting orchestrator."""
    sync = await sync_state(db)
    reason = unavailable_reason(sync)
    if reason is not None:
        return ChainBasis(reason, {}, statuses, None)
    end = min(tick + timedelta(minutes=1), sync.synced_at)  # type: ignore[type-var]
    if tick - end > STALE:
        return ChainBasis(
            f"chain data is stale: the subgraph was last synced {end.isoformat()}",
            {},
            statuses,
            end,
        )
    fees = {a: r.face_value for a, r in (await redeemed(db, end - FEE_PERIOD, end)).items()}
    return ChainBasis(None, fees, statuses, end)


@dataclass(frozen=True, slots=True)
class Interval:
    value: float
    low: float
    high: float


@dataclass(slots=True)
class RegionEstimate:
    avg_streams: Interval | None = None
    pixels_per_second: Interval | None = None
    transcoded_minutes: Interval | None = None
    method: str | None = None
    reason: str | None = None
    basis: int = 0
    inferred: int = 0  # non-reporting orchestrators with fees in the region
    fee_share: float | None = None


@dataclass(slots=True)
class _Model:
    """The basis of one window: ratios of the basis orchestrators, fee weights."""

    ratio: np.ndarray  # (figures,) ΣX / Σf
    ratios: np.ndarray  # (basis, figures)
    weights: np.ndarray  # (basis,) fees / Σ fees
    size: int


def _figures_of(u: Usage, window: Window) -> np.ndarray:
    minutes = window.minutes
    return np.array(
        [u.sessions / minutes, u.mil_pixels * 1e6 / (minutes * 60), u.source_seconds / 60]
    )


def _per_orchestrator(snap: Snapshot, window: Window) -> dict[str, Usage]:
    wanted = set(window.slices)
    out: dict[str, Usage] = defaultdict(Usage)
    for (slice_, _location, orchestrator), part in snap.usage.items():
        if slice_ in wanted:
            out[orchestrator].add(part)
    return out


def _model(usage: dict[str, Usage], window: Window, chain: ChainBasis) -> _Model | None:
    members = [
        a
        for a in sorted(usage)
        if chain.fees.get(a, 0) > 0 and chain.statuses.get(a) is not Status.INCONSISTENT
    ]
    if len(members) < MIN_BASIS:
        return None
    xs = np.array([_figures_of(usage[a], window) for a in members])
    fs = np.array([chain.fees[a] for a in members])
    return _Model(xs.sum(axis=0) / fs.sum(), xs / fs[:, None], fs / fs.sum(), len(members))


@dataclass(slots=True)
class _Region:
    reporting_fees: float = 0.0
    pixels: dict[str, float] = field(default_factory=dict)


def estimate_all(
    snap: Snapshot,
    chain: ChainBasis,
    window: Window,
    by: Grouping,
    figures: dict[str, Figures],
) -> dict[str, RegionEstimate]:
    """The estimate of every region of ``figures``, by code."""
    if chain.reason is not None:
        return {code: RegionEstimate(reason=chain.reason) for code in figures}
    usage = _per_orchestrator(snap, window)
    model = _model(usage, window, chain)
    shares = _fee_split(snap, window, by, usage, chain)
    out = {}
    for code, f in figures.items():
        known = f.known | f.reporting
        region_fees = shares.get(code, 0.0) + sum(
            chain.fees.get(a, 0.0) for a in f.known - usage.keys()
        )
        if by.level is None:  # the network: every fee on chain
            region_fees = sum(chain.fees.values())
        fee_share = shares.get(code, 0.0) / region_fees if region_fees > 0 else None
        if model is None:
            out[code] = RegionEstimate(
                reason=(
                    f"too thin a basis: fewer than {MIN_BASIS} reporting orchestrators in the"
                    " window with on-chain fees and reports consistent with the chain"
                ),
                fee_share=fee_share,
            )
            continue
        # Inferred: orchestrators reporting nowhere in the window (one reporting
        # elsewhere than its registry place has its work counted there already).
        if by.level is None:
            others = [a for a, fee in chain.fees.items() if a not in usage and fee > 0]
        else:
            others = [a for a in known - usage.keys() if chain.fees.get(a, 0) > 0]
        out[code] = _estimate(model, f, sorted(others), chain, (window, by, code, snap.tick))
        out[code].fee_share = fee_share
    return out


def _estimate(
    model: _Model, f: Figures, others: list[str], chain: ChainBasis, key: tuple
) -> RegionEstimate:
    reported = np.array([f.avg_streams, f.pixels_per_second, f.transcoded_minutes])
    fees = np.array([chain.fees[a] for a in others])
    point = reported + model.ratio * fees.sum()
    if others:
        rng = np.random.default_rng(zlib.crc32(repr(key).encode()))
        picks = rng.choice(model.size, size=(DRAWS, len(others)), p=model.weights)
        draws = (model.ratios[picks] * fees[None, :, None]).sum(axis=1)  # (DRAWS, figures)
        low = reported + np.percentile(draws, LOW, axis=0)
        high = reported + np.percentile(draws, HIGH, axis=0)
    else:
        low = high = reported
    intervals = [
        Interval(float(v), float(min(lo, v)), float(max(hi, v)))
        for v, lo, hi in zip(point, low, high, strict=True)
    ]
    return RegionEstimate(
        avg_streams=intervals[0],
        pixels_per_second=intervals[1],
        transcoded_minutes=intervals[2],
        method=METHOD,
        basis=model.size,
        inferred=len(others),
    )


def _fee_split(
    snap: Snapshot, window: Window, by: Grouping, usage: dict[str, Usage], chain: ChainBasis
) -> dict[str, float]:
    """Reporting orchestrators' fees per region, each split by where its pixels (or,
    without pixels, its minutes) were in the window."""
    wanted = set(window.slices)
    weight: dict[tuple[str, str], float] = defaultdict(float)
    for (slice_, location, orchestrator), part in snap.usage.items():
        if slice_ not in wanted or chain.fees.get(orchestrator, 0) <= 0:
            continue
        code = code_of(snap.places, location, by)
        if code is None:
            continue
        total = usage[orchestrator]
        share = (
            part.mil_pixels / total.mil_pixels
            if total.mil_pixels > 0
            else part.minutes / max(total.minutes, 1)
        )
        weight[(orchestrator, code)] += share
    out: dict[str, float] = defaultdict(float)
    for (orchestrator, code), share in weight.items():
        out[code] += share * chain.fees[orchestrator]
    return out
