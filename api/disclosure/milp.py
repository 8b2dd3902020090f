"""The least complementary suppression: an exact MILP (HiGHS), the greedy as fallback.

``api.disclosure.audit`` states what the public view must not let a reader compute
(steps 1 to 4 there) and finds a set of figures to withhold greedily. This module
chooses that set to withhold the least, the way statistical offices do for tables of
this size (Fischetti and Salazar's model, as in tau-argus and sdcTable), and lets the
same audit have the last word: whatever it picks is run through steps 2 to 4, so it
never gives less protection than the greedy audit asks for.

Variables. Per window, one binary per distinct set of pieces among the regions with
contributors (regions with the same places, such as a continent of one country, have
one figure between them and are withheld together). Primary suppression fixes the
ones with 1 to k-1 orchestrators to 1.

Cost: cells withheld. Each region withheld costs 1 plus the share of the window's
orchestrators it holds (a tie-break, worth less than one cell in total between two
choices of the same number of cells, that keeps the big regions an explorer shows
first). The network is never withheld while it has k orchestrators (upper bound 0):
protection comes from the regions. The one exception is a window difference of the
network itself (its day minus its hour) with 1 to k-1 orchestrators; there one of the
two network windows has to go and costs more than every other cell together.

Constraints, all necessary for a set that passes the audit and lets no set of places
with 1 to k-1 orchestrators be computed (what the audit aims at; it looks at blocks),
so the MILP's optimum is a lower bound of the cost of any such set:

* Step 2 (containment residuals) exactly, known in advance. For a region P and a
  grouping G, let R be P's pieces outside every non-primary G-region lying inside P
  (its places without a G code, G-regions straddling its border, primary ones). If R
  has 1 to k-1 orchestrators, P minus its shown G-regions is always a figure of R plus
  the withheld non-primary ones (each with k or more): so P or one of them is withheld.
* Step 4 (windows) exactly: a region's two windows whose difference has 1 to k-1
  orchestrators are not both shown (the audit's consecutive pairs imply all pairs).
* Step 3 (linear derivability) lazily, as Fischetti and Salazar's cutting planes: the
  solution is audited; for every target (a withheld region, or a block of pieces no
  published region tells apart, with 1 to k-1 orchestrators) that is a combination of
  published vectors, one sparse combination (over a basis of the published vectors
  chosen by a pivoted QR decomposition) names the vectors it uses, and one of them
  must be withheld (for a complementary region: one of them, or the region is shown).
  The MILP is solved again with the cuts, until a solution passes; on the benchmark
  that takes about 7 rounds. A block target's cut also holds where the block is later
  split (the set of places it is stays derivable), so the model is, if anything,
  stricter than the audit.

Rounding: published counts are rounded up to multiples of ``LPM_PUBLIC_COUNT_BIN``, so
differences of published figures only bound a withheld one. This module does not rely
on it: differences are treated as exact, as the audit does, which is safe whatever the
bins and whatever two ticks reveal together.

Budget. ``BUDGET`` seconds of solver time per call (per table); a table of more than
``MAX_VARIABLES`` variables, a solver that finds no solution in time, or an infeasible
model (which the network's bound cannot make: withholding every other region is always
feasible) falls back to the greedy. When the time runs out with a solution, that
solution is completed by the audit and compared with the greedy's, and the cheaper one
is used. ``Solution.proven`` says whether the result is the proven optimum of the model
above (the solver proved optimality and the audit added nothing).

Measured by ``python -m tests.bench.disclosure`` (2,000 orchestrators, 471 regions, 4
windows, k = 3): 199 window cells withheld beyond the 367 of primary suppression, the
proven optimum, where the greedy withholds 543; 53 current cells instead of 119. The
model falls apart into independent parts (the network being fixed), solved in one
MILP per round, and a part no new cut touches keeps its solution.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

# As in api.disclosure.audit: small matrices, BLAS threads only fight one another.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from api.disclosure.audit import (
    _DERIVABLE,
    _RANK,
    Cell,
    Prepared,
    Table,
    _bits,
    complete,
    prepare,
)
from api.disclosure.model import Model, build
from api.geo.grouping import Grouping

# Solver seconds per table (a tick has two: current and window figures).
BUDGET = 2.5
# Beyond this many variables the greedy runs instead.
MAX_VARIABLES = 6000
# Coefficients of a least-squares combination below this are not part of it.
_COEFFICIENT = 1e-7


@dataclass
class Solution:
    cells: set[Cell]
    primary: set[Cell]
    method: str  # "milp" or "greedy"
    proven: bool  # the model's optimum, proven
    cost: float | None  # the objective of ``cells`` (see the module docstring)
    bound: float | None  # the MILP's lower bound of the cost (cells withheld)
    rounds: int = 0  # MILP solves
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def withhold(
    table: Table,
    groupings: Sequence[Grouping],
    k: int,
    *,
    budget: float = BUDGET,
    window_differences: bool = True,
) -> Solution:
    """The cells (window, grouping, code) to withhold: the audit's protection, choosing
    the complementary cells that cost least (see the module docstring)."""
    import scipy.optimize  # noqa: F401  (imported on first use, outside the budget)

    start = time.perf_counter()
    prepared = prepare(table, groupings)
    primary = prepared.primary(k)
    primary_cells = prepared.cells(primary)
    model = build(prepared, k, groupings, window_differences)
    if len(model.cost) > MAX_VARIABLES or budget <= 0:
        why = "no budget" if budget <= 0 else "too large"
        return _greedy(prepared, primary, k, window_differences, start, why)
    deadline = start + budget
    rounds, proven, bound = 0, False, None
    x: np.ndarray | None = None
    while True:
        if time.perf_counter() >= deadline:
            break
        solved = _solve(model, deadline)
        rounds += 1
        if solved is None:
            break
        x, proven, found = solved
        # Every cut is necessary, so each round's bound holds for the final answer.
        bound = found if bound is None else max(bound, found)
        cuts = _cuts(model, x)
        if not cuts:
            break
        model.rows += cuts
        proven = False
    if x is None:
        return _greedy(prepared, primary, k, window_differences, start, "no solution in time")
    hidden: list[set[int]] = [set() for _ in prepared.windows]
    for j in np.flatnonzero(x > 0.5):
        hidden[model.window[j]].update(model.regions[j])
    before = sum(map(len, hidden))
    complete(prepared, hidden, k, window_differences=window_differences)
    notes = []
    if sum(map(len, hidden)) > before:
        proven = False
        notes.append("audit added cells")
    cells = prepared.cells(hidden)
    cost = _cost(model, hidden)
    if not proven:
        greedy = _greedy(prepared, prepared.primary(k), k, window_differences, start, "")
        greedy.cost = _cost(model, [set() for _ in hidden], greedy.cells)
        if greedy.cost < cost:
            greedy.rounds, greedy.bound = rounds, bound
            greedy.notes.append("cheaper than the unfinished MILP")
            return greedy
    seconds = time.perf_counter() - start
    return Solution(cells, primary_cells, "milp", proven, cost, bound, rounds, seconds, notes)


def _cost(model: Model, hidden: list[set[int]], cells: set[Cell] | None = None) -> float:
    """The objective of a choice (per window, region ids; or cells)."""
    if cells is not None:
        rid = {key: r for r, key in enumerate(model.prepared.keys)}
        for w, g, c in cells:
            hidden[w].add(rid[(g, c)])
    chosen = {model.var[(w, r)] for w, rs in enumerate(hidden) for r in rs if (w, r) in model.var}
    return float(sum(model.cost[j] for j in chosen))


def _greedy(
    prepared: Prepared,
    hidden: list[set[int]],
    k: int,
    window_differences: bool,
    start: float,
    why: str,
) -> Solution:
    primary = prepared.cells(hidden)
    complete(prepared, hidden, k, window_differences=window_differences)
    cells = prepared.cells(hidden)
    seconds = time.perf_counter() - start
    return Solution(cells, primary, "greedy", False, None, None, 0, seconds, [why] if why else [])


def _solve(model: Model, deadline: float) -> tuple[np.ndarray, bool, float] | None:
    """The MILP's optimum (or best by the deadline): the solution, whether it is proven,
    and a lower bound of the cost. The model falls apart into independent parts (the
    network is fixed, so mostly continents with their countries, regions and cells, all
    windows together); each is solved on its own, and kept while no cut touches it."""
    fixed = model.lower == model.upper
    x = model.lower.copy()
    parent = list(range(len(x)))

    def find(j: int) -> int:
        while parent[j] != j:
            parent[j] = parent[parent[j]]
            j = parent[j]
        return j

    rows_of: dict[int, list[int]] = defaultdict(list)  # part -> rows
    for i, (coefficients, _) in enumerate(model.rows):
        free = [j for j in coefficients if not fixed[j]]
        for j in free[1:]:
            parent[find(j)] = find(free[0])
        if free:
            rows_of[free[0]].append(i)
    parts: dict[int, list[int]] = defaultdict(list)
    for j in np.flatnonzero(~fixed):
        parts[find(int(j))].append(int(j))
    rows: dict[int, list[int]] = defaultdict(list)
    for j, found in rows_of.items():
        rows[find(j)] += found
    bound = float(model.cost[fixed] @ model.lower[fixed])
    todo: list[tuple[frozenset[int], list[int]]] = []
    for root, variables in parts.items():
        key = frozenset(rows[root]) | {-1 - min(variables)}
        done = model.solved.get(key)
        if done is None:
            todo.append((key, variables))
        else:
            x[variables] = done[0]
            bound += done[1]
    if not todo:
        return x, True, bound
    # The parts that changed, in one MILP (one call each costs more than most parts).
    variables = [j for _, vs in todo for j in vs]
    solved = _solve_part(
        model, variables, sorted(i for key, _ in todo for i in key if i >= 0), fixed, deadline
    )
    if solved is None:
        return None
    values, proven, found = solved
    x[variables] = values
    bound += found
    if proven:
        for key, vs in todo:
            model.solved[key] = (x[vs], float(model.cost[vs] @ x[vs]))
    return x, proven, bound


def _solve_part(
    model: Model, variables: list[int], rows: list[int], fixed: np.ndarray, deadline: float
) -> tuple[np.ndarray, bool, float] | None:
    # scipy costs 1.5 s of CPU to import: on first use, not at every process start.
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_array

    at = {j: i for i, j in enumerate(variables)}
    data, row_ids, cols, lower = [], [], [], []
    for r, i in enumerate(rows):
        coefficients, lb = model.rows[i]
        for j, a in coefficients.items():
            if fixed[j]:
                lb -= a * model.lower[j]
            else:
                data.append(a)
                row_ids.append(r)
                cols.append(at[j])
        lower.append(lb)
    cost = model.cost[variables]
    constraints = []
    if rows:
        matrix = csr_array((data, (row_ids, cols)), shape=(len(rows), len(variables)))
        constraints.append(LinearConstraint(matrix, np.array(lower), np.inf))
    result = milp(
        cost,
        integrality=np.ones(len(variables)),
        bounds=Bounds(model.lower[variables], model.upper[variables]),
        constraints=constraints,
        options={
            "time_limit": max(deadline - time.perf_counter(), 0.01),
            "mip_rel_gap": 1e-6,
            "disp": False,
        },
    )
    if result.x is None:
        return None
    proven = result.status == 0
    found = result.fun if proven else getattr(result, "mip_dual_bound", None)
    return np.round(result.x), proven, float(found or 0.0)


def _cuts(model: Model, x: np.ndarray) -> list[tuple[dict[int, float], float]]:
    """Step 3 on the solution ``x``: a cut for every derivable target."""
    out = []
    for w, win in enumerate(model.prepared.windows):
        mine = [j for j in range(len(x)) if model.window[j] == w]
        shown = [j for j in mine if x[j] < 0.5]
        key = frozenset(shown)
        if not shown or (w, key) in model.clean:
            continue
        signature: dict[int, list[int]] = defaultdict(list)
        for i, j in enumerate(shown):
            for p in model.pieces[j]:
                signature[p].append(i)
        block_ids: dict[tuple[int, ...], int] = {}
        block_of = {p: block_ids.setdefault(tuple(s), len(block_ids)) for p, s in signature.items()}
        who = [0] * len(block_ids)
        count = [0] * len(block_ids)
        for p, b in block_of.items():
            who[b] |= win.pieces[p]
            count[b] += 1
        published = np.zeros((len(shown), len(block_ids)))
        for i, j in enumerate(shown):
            published[i, [block_of[p] for p in model.pieces[j]]] = 1.0
        targets: list[tuple[int | None, list[int]]] = []  # (variable or None, blocks)
        for j in mine:
            if x[j] < 0.5:
                continue
            inside: dict[int, int] = defaultdict(int)
            for p in model.pieces[j]:
                if (b := block_of.get(p)) is None:
                    break
                inside[b] += 1
            else:
                if all(n == count[b] for b, n in inside.items()):
                    targets.append((j, list(inside)))
        targets += [(None, [b]) for b in range(len(who)) if 0 < _bits(who[b]) < model.k]
        if not targets:
            continue
        matrix = np.zeros((len(targets), len(block_ids)))
        for i, (_, blocks) in enumerate(targets):
            matrix[i, blocks] = 1.0
        derived = _derived(published, matrix)
        if not derived:
            model.clean.add((w, key))
        for i, used in derived:
            row = {shown[u]: 1.0 for u in used}
            target = targets[i][0]
            if target is not None and model.lower[target] < 0.5:
                row[target] = -1.0  # withheld by choice: or shown instead
                out.append((row, 0.0))
            else:
                out.append((row, 1.0))
    return out


def _derived(published: np.ndarray, targets: np.ndarray) -> list[tuple[int, list[int]]]:
    """The targets (rows of ``targets``) that are combinations of the rows of
    ``published``, each with the rows of one such combination: its combination of a
    basis of the rows chosen by a pivoted QR decomposition (which also gives the span),
    a dozen rows in practice. Sparse combinations make strong cuts: a least-squares
    combination mixes every route to the target, and withholding one of its rows
    leaves the others open. (Orthogonal matching pursuit found combinations a fifth
    shorter at 30 times the cost.)"""
    import scipy.linalg  # on first use, as in _solve_part

    q, r, order = scipy.linalg.qr(published.T, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r))
    rank = int((diagonal > diagonal[0] * _RANK).sum())
    q = q[:, :rank]
    projected = targets @ q
    distance = np.linalg.norm(targets - projected @ q.T, axis=1)
    found = np.flatnonzero(distance < _DERIVABLE)
    if not found.size:
        return []
    coefficients = scipy.linalg.solve_triangular(r[:rank, :rank], projected[found].T)
    return [
        (int(i), [int(order[u]) for u in np.flatnonzero(np.abs(column) > _COEFFICIENT)])
        for i, column in zip(found, coefficients.T, strict=True)
    ]
