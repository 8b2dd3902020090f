"""The precision policy: how exact a figure each caller gets (DESIGN §4;
docs/statistics.md, "Who sees what").

Every GraphQL field declares a ``Rule`` for anonymous callers and one for orchestrators
(``resolvers.fields``); this module says what each rule does, with the public view's
parameters from the settings (``LPM_PUBLIC_*``). A caller is precise when
``Identity.precise`` says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import h3

from api.core.settings import Settings
from auth.identity import Identity

SIGNIFICANT_DIGITS = 2
# Anonymous series never go finer than this many seconds per point.
PUBLIC_MIN_STEP = 3600


class Rule(Enum):
    EXACT = "EXACT"
    """Everyone gets the exact value."""
    COUNT_BIN = "COUNT_BIN"
    """Rounded up to a multiple of LPM_PUBLIC_COUNT_BIN; null when withheld."""
    SIGNIFICANT = "SIGNIFICANT"
    """Rounded to 2 significant digits; null when withheld."""
    CELL = "CELL"
    """An H3 cell no finer than LPM_PUBLIC_H3_RES (its parent when finer)."""
    CELL_CENTER = "CELL_CENTER"
    """A coordinate replaced by the centre of the CELL-rule cell holding the point."""
    CELL_DISTANCE = "CELL_DISTANCE"
    """A distance measured between the centres of CELL-rule cells, never from a
    precise position; 2 significant digits."""
    HIDDEN = "HIDDEN"
    """Not given at all: null, or an empty list."""
    SHARED = "SHARED"
    """Exact for the orchestrator's own data and for orchestrators that share
    per-node figures with other orchestrators; null otherwise."""
    OWN = "OWN"
    """Exact for the orchestrator's own data only; null for anyone else."""
    CALLER = "CALLER"
    """Describes the caller, not the network: nothing to coarsen."""
    OBJECT = "OBJECT"
    """An object or list; each of its fields declares its own rule."""
    LABEL = "LABEL"
    """The Precision label of the object (EXACT, COARSENED or SUPPRESSED)."""
    BY_METRIC = "BY_METRIC"
    """COUNT_BIN for counts of streams, capacity, broadcasters; SIGNIFICANT otherwise."""


@dataclass(frozen=True, slots=True)
class View:
    """What one caller gets."""

    precise: bool
    address: str | None  # the signed-in orchestrator, also when downgraded
    count_bin: int
    max_resolution: int  # finest H3 resolution of the public view
    min_orchestrators: int
    reason: str | None = None  # why a signed-in orchestrator gets the public view

    @property
    def public(self) -> bool:
        return not self.precise


def view_for(identity: Identity, settings: Settings) -> View:
    return View(
        precise=identity.precise,
        address=identity.address,
        count_bin=settings.public_count_bin,
        max_resolution=settings.public_h3_res,
        min_orchestrators=settings.public_min_orchestrators,
        reason=identity.downgraded,
    )


def round_up(value: float, step: int) -> int:
    """``value`` rounded up to a multiple of ``step`` (0 stays 0)."""
    # A float a hair above a multiple (e.g. 16.000000001 from a sum) is that multiple.
    return math.ceil(round(value / step, 9)) * step


def significant(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def coarse_cell(cell: str, max_resolution: int) -> str:
    """``cell`` or, when finer than ``max_resolution``, its parent at that resolution."""
    if h3.get_resolution(cell) > max_resolution:
        return h3.cell_to_parent(cell, max_resolution)
    return cell


def coarse_point(cell: str, max_resolution: int) -> tuple[float, float]:
    """The public stand-in for a point lying in ``cell``: the centre of its coarse cell."""
    return h3.cell_to_latlng(coarse_cell(cell, max_resolution))


def public_value(rule: Rule, value: object, view: View, *, count: bool = True) -> object:
    """``value`` as the public view shows it under ``rule`` (scalar rules only;
    CELL_CENTER needs the whole point, see ``coarse_point``). ``count`` picks
    COUNT_BIN or SIGNIFICANT for BY_METRIC."""
    if value is None:
        return None
    if rule is Rule.BY_METRIC:
        rule = Rule.COUNT_BIN if count else Rule.SIGNIFICANT
    if rule is Rule.COUNT_BIN:
        return round_up(value, view.count_bin)  # type: ignore[arg-type]
    if rule in (Rule.SIGNIFICANT, Rule.CELL_DISTANCE):
        return significant(value)  # type: ignore[arg-type]
    if rule is Rule.CELL:
        return coarse_cell(value, view.max_resolution)  # type: ignore[arg-type]
    if rule in (Rule.HIDDEN, Rule.SHARED, Rule.OWN):
        return [] if isinstance(value, list) else None
    return value


def public_step(step: int) -> int:
    """A series step as the public view serves it: whole hours, at least one."""
    return max(PUBLIC_MIN_STEP, -(-step // PUBLIC_MIN_STEP) * PUBLIC_MIN_STEP)


def public_resolution(resolution: int, view: View) -> int:
    return resolution if view.precise else min(resolution, view.max_resolution)
