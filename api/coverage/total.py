"""May the public view be told the network's located demand?

``coverageGaps`` publishes each cell's share of it, and a share times the cell's
published ``origins`` figure is the total: so the total is a published figure too.
``api.stats.origins.Origins.withheld`` therefore chooses what ``origins`` withholds
with the total in its table (``NETWORK``), the way the network's own figures are
protected: the least complementary suppression (``api.disclosure.milp``) keeps the
total while k orchestrators make it and withholds regions around it instead. (Without
it the MILP withholds no more than ``origins`` alone needs, and the total then
nearly always gives a withheld cell away: every share would go.)

A window's total is published when that audit shows it, and when this independent
check of the figures ``origins`` publishes plus the total agrees, so that a bug or a
fallback in either never publishes a share it should not:

1. it comes from no orchestrator or from at least k;
2. for every level, the total minus that level's published regions (the withheld
   ones, and demand without a code at that level) comes from none or at least k;
3. no withheld region, and no set of places no published region tells apart with 1
   to k-1 orchestrators, becomes a sum and difference of published figures once
   the total joins them (distance to their span, by least squares);
4. the difference of the totals of two windows comes from none or at least k.

Otherwise every share is withheld (for that window, or the shorter of two).
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np

from api.geo.grouping import NETWORK, Grouping, Level, grouping
from api.stats.origins import ORIGIN_RESOLUTION, Atom, Origins, origin_code
from api.stats.windows import WINDOWS, Window

_DERIVABLE = 1e-6


def _groupings(max_resolution: int) -> list[Grouping]:
    cells = min(max_resolution, ORIGIN_RESOLUTION)
    return [
        grouping(Level.CONTINENT),
        grouping(Level.COUNTRY),
        grouping(Level.LIVEPEER_REGION),
        *(grouping(Level.CELL, r) for r in range(cells + 1)),
    ]


def publishable_totals(origins: Origins, k: int, max_resolution: int) -> frozenset[Window]:
    """The windows whose total of located demand the public view may learn."""
    withheld = origins.withheld(k, max_resolution)
    groupings = _groupings(max_resolution)
    per_slice: list[dict[Atom, set[str]]] = [defaultdict(set) for _ in WINDOWS]
    for (slice_, country, cell, orchestrator), mil_pixels in origins.rows.items():
        if cell and mil_pixels > 0:  # located demand: what the total sums
            per_slice[slice_][(country, cell)].add(orchestrator)
    ok = {
        w
        for w in WINDOWS
        if (w, NETWORK, "") not in withheld
        and _safe(_atoms(per_slice, w.slices), groupings, withheld, w, k)
    }
    # 4: nested windows, from the shortest: a difference with too few orchestrators
    # withholds the shorter window.
    shown = [w for w in WINDOWS if w in ok]
    for shorter, longer in itertools.pairwise(shown):
        between = set(longer.slices) - set(shorter.slices)
        who = set().union(*(o for s in between for o in per_slice[s].values()))
        if 0 < len(who) < k:
            ok.discard(shorter)
    return frozenset(ok)


def _atoms(per_slice: list[dict[Atom, set[str]]], slices: tuple[int, ...]) -> dict[Atom, set[str]]:
    out: dict[Atom, set[str]] = defaultdict(set)
    for s in slices:
        for atom, who in per_slice[s].items():
            out[atom] |= who
    return out


def _safe(
    atoms: dict[Atom, set[str]],
    groupings: list[Grouping],
    withheld: frozenset[tuple[Window, Grouping, str]],
    window: Window,
    k: int,
) -> bool:
    everyone = set().union(*atoms.values()) if atoms else set()
    if 0 < len(everyone) < k:  # 1
        return False
    if not everyone:
        return True
    names = sorted(atoms)
    index = {a: i for i, a in enumerate(names)}
    published: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for by in groupings:
        regions: dict[str, list[int]] = defaultdict(list)
        for atom in names:
            code = origin_code(atom, by)
            if code is not None:
                regions[code].append(index[atom])
        rest = set(range(len(names)))
        for code, members in regions.items():
            vector = np.zeros(len(names))
            vector[members] = 1.0
            if (window, by, code) in withheld:
                targets.append(vector)
            else:
                published.append(vector)
                rest -= set(members)
        who = set().union(*(atoms[names[i]] for i in rest)) if rest else set()
        if 0 < len(who) < k:  # 2
            return False
    # Places no published region (nor the total) tells apart, with too few orchestrators.
    matrix = np.array(published) if published else np.zeros((1, len(names)))
    _, block_of = np.unique(matrix.T, axis=0, return_inverse=True)
    blocks: dict[int, list[int]] = defaultdict(list)
    for i, b in enumerate(block_of.ravel()):
        blocks[int(b)].append(i)
    for members in blocks.values():
        who = set().union(*(atoms[names[i]] for i in members))
        if 0 < len(who) < k:
            vector = np.zeros(len(names))
            vector[members] = 1.0
            targets.append(vector)
    if not targets:
        return True
    basis = np.vstack([matrix, np.ones(len(names))]).T  # places x published figures
    wanted = np.array(targets).T
    solution, *_ = np.linalg.lstsq(basis, wanted, rcond=None)
    distance = np.linalg.norm(basis @ solution - wanted, axis=0)
    return bool((distance > _DERIVABLE).all())  # 3
