"""The MILP of the least complementary suppression (``api.disclosure.milp``): its
variables, costs, bounds and the constraints known before solving (steps 2 and 4 of
``api.disclosure.audit``). The module docstring of ``api.disclosure.milp`` explains
them."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

# As in api.disclosure.audit: small matrices, BLAS threads only fight one another.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from api.disclosure.audit import Prepared, _bits, _inside, _union
from api.geo.grouping import NETWORK, Grouping


@dataclass
class Model:
    prepared: Prepared
    k: int
    var: dict[tuple[int, int], int]  # (window, region) -> variable
    window: list[int]  # variable -> window
    pieces: list[frozenset[int]]  # variable -> pieces
    regions: list[list[int]]  # variable -> regions
    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    rows: list[tuple[dict[int, float], float]]
    clean: set[tuple[int, frozenset[int]]] = field(default_factory=set)  # audited, no cut
    # Parts of the model solved to optimality, by their rows: solution and cost.
    solved: dict[frozenset[int], tuple[np.ndarray, float]] = field(default_factory=dict)


def build(
    prepared: Prepared, k: int, groupings: Sequence[Grouping], window_differences: bool
) -> Model:
    networks = {r for r, g in enumerate(prepared.grouping_of) if groupings[g] == NETWORK}
    var: dict[tuple[int, int], int] = {}
    window: list[int] = []
    pieces: list[frozenset[int]] = []
    regions: list[list[int]] = []
    size: list[int] = []
    weight: list[float] = []
    for w, win in enumerate(prepared.windows):
        everyone = _bits(_union(win.pieces, range(len(win.pieces))))
        seen: dict[frozenset[int], int] = {}
        for r, ps in win.regions.items():
            j = seen.get(ps)
            if j is None:
                j = seen[ps] = len(window)
                window.append(w)
                pieces.append(ps)
                regions.append([])
                size.append(win.size[r])
                weight.append(0.0)
            var[(w, r)] = j
            regions[j].append(r)
            weight[j] += 1 + win.size[r] / (everyone + 1)
    n = len(window)
    cost = np.array(weight)
    lower = np.array([1.0 if size[j] < k else 0.0 for j in range(n)])
    upper = np.ones(n)
    network = [j for j in range(n) if networks & set(regions[j])]
    upper[network] = lower[network]  # shown while it has k orchestrators
    rows: list[tuple[dict[int, float], float]] = []

    # Step 2, exactly.
    for w, win in enumerate(prepared.windows):
        for parent, lists in _inside(win, prepared.grouping_of).items():
            for inner in lists:
                shown = [c for c in inner if win.size[c] >= k]
                rest = set(win.regions[parent])
                for c in shown:
                    rest -= win.regions[c]
                if 0 < _bits(_union(win.pieces, rest)) < k:
                    row = {var[(w, parent)]: 1.0} | {var[(w, c)]: 1.0 for c in shown}
                    rows.append((row, 1.0))

    # Step 4, exactly.
    if window_differences:
        table, parts = prepared.table, prepared.parts
        members: dict[int, list] = defaultdict(list)
        for atom, rs in prepared.regions_of.items():
            for r in rs:
                members[r].append(atom)
        spans = [set(s) for s in table.windows]
        for r, atoms in members.items():
            # The region's orchestrators per slice, then per pair of windows the slices
            # between them.
            per_slice = [0] * len(parts)
            for s, part in enumerate(parts):
                for atom in atoms:
                    per_slice[s] |= part.get(atom, 0)
            for a in range(len(spans)):
                for b in range(a + 1, len(spans)):
                    who = 0
                    for s in spans[b] - spans[a]:
                        who |= per_slice[s]
                    if not 0 < _bits(who) < k:
                        continue
                    row = {var[(w, r)]: 1.0 for w in (a, b) if (w, r) in var}
                    if not row:
                        continue
                    rows.append((row, 1.0))
                    for j in row:
                        if j in network:  # the network's own windows differ by too few
                            upper[j] = 1.0
                            cost[j] = float(cost.sum()) + 1.0
    return Model(prepared, k, var, window, pieces, regions, cost, lower, upper, rows)
