"""Disclosure control for the public (anonymous) view: which figures are withheld so
that no figure, nor any sum or difference of published figures, comes from 1 to k-1
orchestrators (docs/statistics.md, "Withheld figures"; cost: tests/bench/README.md).

A region is a 0/1 vector over *pieces* (atoms that every region of every grouping
treats alike); step 3 finds derivable targets by their distance to the span of the
published vectors (an SVD), and protects them with a complementary suppression.

Greedy; the public view chooses with ``api.disclosure.milp`` instead (the least
withheld, by a MILP, never the network), which runs ``complete`` here on its choice as
the final audit and falls back to ``protect`` for tables too large or too slow to solve.
"""

from __future__ import annotations

import itertools
import os
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

# The matrices are small (hundreds of rows): BLAS threads only fight the event loop
# and one another, 3 times slower measured on 2 busy cores. It takes effect only
# before numpy's first import (this module is the only one importing it); a
# deployment may set it otherwise.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from api.geo.grouping import Grouping

Atom = Hashable
Cell = tuple[int, Grouping, str]  # (window index, grouping, region code)
Region = tuple[Grouping, str]

# Step 3's tolerances lean to safety: singular values are kept down to 1e-10 of the
# largest (more rank, more derivable), and a distance under 1e-6 counts as derivable
# (0/1 vectors that are not derivable lie much further away).
_RANK = 1e-10
_DERIVABLE = 1e-6
_COEFFICIENT = 1e-7


@dataclass(frozen=True)
class Table:
    """What one group of figures is made of.

    ``codes[atom][grouping]`` is the region an atom belongs to (absent: none);
    ``parts[slice][atom]`` the orchestrators contributing from that atom in that
    slice; ``windows[w]`` the slices window ``w`` spans, windows nested and ascending.
    """

    codes: Mapping[Atom, Mapping[Grouping, str]]
    parts: Sequence[Mapping[Atom, frozenset[str]]]
    windows: Sequence[tuple[int, ...]]


def _bits(who: int) -> int:
    return who.bit_count()


def _union(who: Sequence[int], indices: Iterable[int]) -> int:
    out = 0
    for i in indices:
        out |= who[i]
    return out


@dataclass
class _Window:
    """One window's regions (by id) as sets of pieces, orchestrators as bits of ints."""

    pieces: list[int]  # orchestrators of each piece
    piece_regions: list[tuple[int, ...]]  # regions of each piece
    regions: dict[int, frozenset[int]]  # regions with contributors: their pieces
    size: dict[int, int]  # their orchestrators


def _window(who: Mapping[Atom, int], regions_of: Mapping[Atom, tuple[int, ...]]) -> _Window:
    piece_of: dict[tuple[int, ...], int] = {}
    pieces: list[int] = []
    regions: dict[int, set[int]] = defaultdict(set)
    for atom, bits in who.items():
        signature = regions_of.get(atom)
        if not bits or signature is None:
            continue
        p = piece_of.get(signature)
        if p is None:
            p = piece_of[signature] = len(pieces)
            pieces.append(0)
            for r in signature:
                regions[r].add(p)
        pieces[p] |= bits
    frozen = {r: frozenset(regions[r]) for r in sorted(regions)}
    size = {r: _bits(_union(pieces, ps)) for r, ps in frozen.items()}
    return _Window(pieces, list(piece_of), frozen, size)


def protect(
    table: Table,
    groupings: Sequence[Grouping],
    k: int,
    *,
    audit: bool = True,
    window_differences: bool = True,
) -> set[Cell]:
    """The cells (window, grouping, code) to withhold: primary suppression and, with
    ``audit``, steps 2 and 3 and (with ``window_differences``) step 4."""
    prepared = prepare(table, groupings)
    hidden = prepared.primary(k)
    if audit:
        complete(prepared, hidden, k, window_differences=window_differences)
    return prepared.cells(hidden)


@dataclass
class Prepared:
    """A table as ``protect`` works on it: regions by id, orchestrators as bits."""

    table: Table
    keys: list[Region]  # region ids -> (grouping, code)
    grouping_of: list[int]  # region id -> grouping index
    regions_of: dict[Atom, tuple[int, ...]]
    parts: list[dict[Atom, int]]
    windows: list[_Window]

    def primary(self, k: int) -> list[set[int]]:
        """Step 1: per window, the regions with 1 to k-1 orchestrators."""
        return [{r for r, n in win.size.items() if n < k} for win in self.windows]

    def cells(self, hidden: Sequence[set[int]]) -> set[Cell]:
        return {(w, *self.keys[r]) for w, rs in enumerate(hidden) for r in rs}


def prepare(table: Table, groupings: Sequence[Grouping]) -> Prepared:
    # Regions get ids in (grouping, code) order, orchestrators a bit each.
    rank = {g: i for i, g in enumerate(groupings)}
    found = {(g, c) for codes in table.codes.values() for g, c in codes.items() if g in rank}
    keys: list[Region] = sorted(found, key=lambda r: (rank[r[0]], r[1]))
    rid = {r: i for i, r in enumerate(keys)}
    grouping_of = [rank[g] for g, _ in keys]
    regions_of = {
        atom: tuple(sorted(rid[(g, c)] for g, c in codes.items() if g in rank))
        for atom, codes in table.codes.items()
    }
    ids: dict[str, int] = {}

    def bits(who: frozenset[str]) -> int:
        out = 0
        for o in who:
            out |= 1 << ids.setdefault(o, len(ids))
        return out

    parts = [{a: bits(w) for a, w in part.items()} for part in table.parts]
    windows: list[_Window] = []
    for slices in table.windows:
        atoms: dict[Atom, int] = defaultdict(int)
        for s in slices:
            for atom, who in parts[s].items():
                atoms[atom] |= who
        windows.append(_window(atoms, regions_of))
    return Prepared(table, keys, grouping_of, regions_of, parts, windows)


def complete(
    prepared: Prepared, hidden: list[set[int]], k: int, *, window_differences: bool = True
) -> None:
    """Steps 2 to 4 from ``hidden`` (per window, region ids; extended in place) until
    nothing changes."""
    table, parts, windows = prepared.table, prepared.parts, prepared.windows
    members: dict[int, list[Atom]] = defaultdict(list)
    for atom, rs in prepared.regions_of.items():
        for r in rs:
            members[r].append(atom)
    dirty = set(range(len(windows)))
    while dirty:
        for w in sorted(dirty):
            _audit(windows[w], prepared.grouping_of, hidden[w], k)
        dirty = set()
        if not window_differences:
            break
        for r, atoms in members.items():
            shown = [w for w in range(len(windows)) if r not in hidden[w]]
            for shorter, longer in itertools.pairwise(shown):
                between = set(table.windows[longer]) - set(table.windows[shorter])
                n = 0
                for s in between:
                    n |= _union([parts[s].get(a, 0) for a in atoms], range(len(atoms)))
                if 0 < _bits(n) < k:
                    hidden[shorter].add(r)
                    dirty.add(shorter)


def _audit(win: _Window, grouping_of: list[int], hidden: set[int], k: int) -> None:
    """Steps 2 and 3 for one window, until neither withholds anything more."""
    inside = _inside(win, grouping_of)
    while True:
        _residuals(win, inside, hidden, k)
        if not _derivable(win, hidden, k):
            return


def _inside(win: _Window, grouping_of: list[int]) -> dict[int, list[list[int]]]:
    """For every region P, per other grouping, the regions whose pieces all lie in P."""
    out: dict[int, list[list[int]]] = {}
    for parent, ps in win.regions.items():
        counts: dict[int, int] = defaultdict(int)
        for p in ps:
            for r in win.piece_regions[p]:
                counts[r] += 1
        by: dict[int, list[int]] = defaultdict(list)
        for r in sorted(counts):
            g = grouping_of[r]
            if g != grouping_of[parent] and counts[r] == len(win.regions[r]):
                by[g].append(r)
        out[parent] = list(by.values())
    return out


def _residuals(win: _Window, inside: dict[int, list[list[int]]], hidden: set[int], k: int) -> None:
    """Step 2."""
    for parent, lists in inside.items():
        for regions in lists:
            while parent not in hidden:
                shown = [r for r in regions if r not in hidden]
                if not shown:
                    break
                rest = set(win.regions[parent])
                for r in shown:
                    rest -= win.regions[r]
                n = _bits(_union(win.pieces, rest))
                if n == 0 or n >= k:
                    break
                hidden.add(min(shown, key=lambda r: (win.size[r], r)))


def _derivable(win: _Window, hidden: set[int], k: int) -> bool:
    """Step 3; True when something was withheld."""
    vectors: dict[frozenset[int], list[int]] = defaultdict(list)
    for region, ps in win.regions.items():
        if region not in hidden:
            vectors[ps].append(region)
    if not vectors:
        return False
    shown = list(vectors)
    # Blocks: pieces in the same published vectors. Every published vector, so every
    # derivable one, is constant on them, and they are the coordinates from here on.
    signature: dict[int, list[int]] = defaultdict(list)
    for i, ps in enumerate(shown):
        for p in ps:
            signature[p].append(i)
    block_ids: dict[tuple[int, ...], int] = {}
    block_of = {p: block_ids.setdefault(tuple(sig), len(block_ids)) for p, sig in signature.items()}
    who = [0] * len(block_ids)
    size = [0] * len(block_ids)
    for p, b in block_of.items():
        who[b] |= win.pieces[p]
        size[b] += 1
    published = np.zeros((len(shown), len(block_ids)))
    for i, ps in enumerate(shown):
        published[i, [block_of[p] for p in ps]] = 1.0
    # Targets: withheld regions made of whole blocks, and blocks with 1 to k-1.
    targets: list[list[int]] = []
    for region in sorted(hidden & win.regions.keys()):
        count: dict[int, int] = defaultdict(int)
        for p in win.regions[region]:
            if (b := block_of.get(p)) is None:
                break
            count[b] += 1
        else:
            if all(n == size[b] for b, n in count.items()):
                targets.append(list(count))
    targets += [[b] for b in range(len(who)) if 0 < _bits(who[b]) < k]
    if not targets:
        return False
    matrix = np.zeros((len(targets), len(block_ids)))
    for i, t in enumerate(targets):
        matrix[i, t] = 1.0
    _, s, vt = np.linalg.svd(published, full_matrices=False)
    basis = vt[: int((s > s[0] * _RANK).sum())]
    distance = np.linalg.norm(matrix - (matrix @ basis.T) @ basis, axis=1)
    found = np.flatnonzero(distance < _DERIVABLE)
    if not found.size:
        return False
    # Protect each derivable target T with a block p in T and a partner q outside it:
    # once no published vector holds one of them without the other, adding to p what
    # is taken from q changes T and no published figure. The partner is the one whose
    # separating vectors weigh least (orchestrators of every region withheld), and
    # should bring T to k orchestrators; "no partner" (p alone) separates p from
    # everything, so it withholds every vector holding p, the network's too.
    cost = np.array([_bits(_union(win.pieces, v)) * len(vectors[v]) for v in shown], dtype=float)
    member = published.T  # blocks x vectors
    alone = member @ cost
    pair = alone[:, None] + alone[None, :] - 2 * (member * cost) @ member.T
    live = np.ones(len(shown), dtype=bool)
    penalty = float(cost.sum()) + 1.0
    for i in found:
        inside = matrix[i] > 0
        rows, cols = np.flatnonzero(inside), np.flatnonzero(~inside)
        union = _union(who, rows)
        short = [j for j, q in enumerate(cols) if 0 < _bits(union | who[q]) < k]
        options = np.column_stack([pair[np.ix_(rows, cols)], alone[rows]])
        options[:, short] += penalty
        r, c = np.unravel_index(int(np.argmin(options)), options.shape)
        if options[r, c] < 0.5:  # an earlier pair protects T already
            continue
        p = rows[r]
        apart = member[p] != (member[cols[c]] if c < cols.size else 0)
        for v in np.flatnonzero(apart & live):
            live[v] = False
            hidden.update(vectors[shown[v]])
            column = member[:, v]
            pair -= cost[v] * np.abs(column[:, None] - column[None, :])
            alone -= cost[v] * column
    return True
