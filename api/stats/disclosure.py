"""Disclosure control for the public (anonymous) view: which figures are withheld.

The unit protected is the orchestrator. With k = ``LPM_PUBLIC_MIN_ORCHESTRATORS``:

1. Primary suppression: a region's figure is withheld when between 1 and k-1
   orchestrators contribute to it. Figures come in groups with their own contributors:
   *current* (currentStreams, capacity: orchestrators with a node heard from in the
   last 5 minutes; the same in every window, so they are decided once for all
   windows), *window* (avg/max streams, pixels, minutes, segments: orchestrators with
   data in the window) and *broadcasters* (orchestrators that sent sender labels).

2. Secondary suppression, so a withheld figure cannot be recovered by subtraction,
   the way statistical offices protect hierarchical tables. For every pair of nested
   levels (the network over every level, continent over country, a coarser H3
   resolution over a finer one), whatever a published parent holds beyond its
   published children (withheld children and places without a code at the child
   level) must come from no orchestrator or from at least k; otherwise the published
   child with the fewest orchestrators is withheld too, and so on.

3. Windows: the four windows are nested, so the difference of two published windows
   of a region is its figure over the slice between them. That slice must also come
   from no orchestrator or at least k, else the shorter window is withheld.

Steps 2 and 3 repeat until nothing changes. Differences between levels that do not
nest (a country against a Livepeer region) are not audited; the rounding of public
figures blurs them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from api.stats.places import Grouping

Atom = Hashable
Cell = tuple[int, Grouping, str]  # (window index, grouping, region code)


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


def _union(sets: Iterable[frozenset[str]]) -> frozenset[str]:
    out: set[str] = set()
    for s in sets:
        out |= s
    return frozenset(out)


def protect(
    table: Table,
    groupings: Sequence[Grouping],
    pairs: Sequence[tuple[Grouping, Grouping]],
    k: int,
    *,
    window_differences: bool = True,
) -> set[Cell]:
    """The cells (window, grouping, code) to withhold: primary suppression, secondary
    suppression over ``pairs`` and, with ``window_differences``, step 3."""
    # Orchestrators per atom and window, and the atoms of every region.
    per_window: list[dict[Atom, frozenset[str]]] = []
    for slices in table.windows:
        atoms: dict[Atom, set[str]] = defaultdict(set)
        for s in slices:
            for atom, who in table.parts[s].items():
                atoms[atom] |= who
        per_window.append({a: frozenset(w) for a, w in atoms.items()})
    members: dict[Grouping, dict[str, list[Atom]]] = {g: defaultdict(list) for g in groupings}
    for atom, codes in table.codes.items():
        for g in groupings:
            code = codes.get(g)
            if code is not None:
                members[g][code].append(atom)

    def who(w: int, atoms: Iterable[Atom]) -> frozenset[str]:
        return _union(per_window[w].get(a, frozenset()) for a in atoms)

    def who_slices(slices: Iterable[int], atoms: list[Atom]) -> frozenset[str]:
        return _union(table.parts[s].get(a, frozenset()) for s in slices for a in atoms)

    withheld: set[Cell] = set()
    size: dict[Cell, int] = {}
    for w in range(len(table.windows)):
        for g in groupings:
            for code, atoms in members[g].items():
                n = len(who(w, atoms))
                size[(w, g, code)] = n
                if 0 < n < k:
                    withheld.add((w, g, code))

    children: dict[tuple[Grouping, Grouping], dict[str, set[str]]] = {}
    for parent, child in pairs:
        tree: dict[str, set[str]] = defaultdict(set)
        for codes in table.codes.values():
            p, c = codes.get(parent), codes.get(child)
            if p is not None and c is not None:
                tree[p].add(c)
        children[(parent, child)] = tree

    changed = True
    while changed:
        changed = False
        for w in range(len(table.windows)):
            for parent, child in pairs:
                tree = children[(parent, child)]
                for p_code, p_atoms in members[parent].items():
                    if (w, parent, p_code) in withheld:
                        continue
                    while True:
                        shown = sorted(
                            c for c in tree.get(p_code, ()) if (w, child, c) not in withheld
                        )
                        covered = {a for c in shown for a in members[child][c]}
                        hidden = [a for a in p_atoms if a not in covered]
                        n = len(who(w, hidden))
                        # Withholding a child no orchestrator contributes to hides nothing.
                        candidates = [c for c in shown if size[(w, child, c)] > 0]
                        if n == 0 or n >= k or not candidates:
                            break
                        victim = min(candidates, key=lambda c: (size[(w, child, c)], c))
                        withheld.add((w, child, victim))
                        changed = True
        for g in groupings if window_differences else ():
            for code, atoms in members[g].items():
                published = [w for w in range(len(table.windows)) if (w, g, code) not in withheld]
                for shorter, longer in itertools.pairwise(published):
                    between = set(table.windows[longer]) - set(table.windows[shorter])
                    n = len(who_slices(between, atoms))
                    if 0 < n < k:
                        withheld.add((shorter, g, code))
                        changed = True
    return withheld
