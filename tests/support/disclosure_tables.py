"""Small disclosure tables for the disclosure tests, and an independent oracle of what
a published choice must satisfy (primary, containment residuals, linear derivability,
window differences), written without the code under test."""

from __future__ import annotations

import itertools
import random

import numpy as np

from api.disclosure.audit import Table
from api.geo.grouping import NETWORK, Grouping, Level, grouping

CONTINENT = grouping(Level.CONTINENT)
COUNTRY = grouping(Level.COUNTRY)
LIVEPEER = grouping(Level.LIVEPEER_REGION)
CELL0 = grouping(Level.CELL, 0)
CELL1 = grouping(Level.CELL, 1)


def crossing(atoms: dict[str, tuple[dict[Grouping, str], list[set[str]]]]) -> Table:
    """atom -> (its codes, orchestrators per slice); windows nested as in ``table``."""
    slices = max(len(v[1]) for v in atoms.values())
    parts = [
        {a: frozenset(v[1][s]) for a, v in atoms.items() if s < len(v[1]) and v[1][s]}
        for s in range(slices)
    ]
    windows = [tuple(range(i + 1)) for i in range(slices)]
    return Table({a: v[0] for a, v in atoms.items()}, parts, windows)


def place(continent: str, country: str, region: str, who: set[str]):
    """One place of a one-window table, coded at the network, continent, country and
    Livepeer-region levels, with the orchestrators it holds."""
    codes = {NETWORK: "", CONTINENT: continent, COUNTRY: country, LIVEPEER: region}
    return (codes, [who])


def who_of(t: Table, w: int) -> dict[object, set[str]]:
    return {
        a: set().union(*(t.parts[s].get(a, frozenset()) for s in t.windows[w])) for a in t.codes
    }


def regions_of(t: Table, groupings: list[Grouping], w: int) -> dict[tuple[Grouping, str], set]:
    """Regions with contributors in window w: their atoms with contributors."""
    who = who_of(t, w)
    out: dict[tuple[Grouping, str], set] = {}
    for a, codes in t.codes.items():
        for g in groupings:
            if g in codes and who[a]:
                out.setdefault((g, codes[g]), set()).add(a)
    return out


def count_of(t: Table, w: int, atoms: set) -> int:
    who = who_of(t, w)
    return len(set().union(set(), *(who[a] for a in atoms)))


def residuals(t: Table, withheld: set, groupings: list[Grouping], w: int) -> list[int]:
    """Orchestrators of every published region minus the published regions of another
    grouping lying inside it."""
    regions = regions_of(t, groupings, w)
    out = []
    for (pg, pc), atoms in regions.items():
        if (w, pg, pc) in withheld:
            continue
        for g in groupings:
            if g == pg:
                continue
            rest = set(atoms)
            for (rg, rc), inner in regions.items():
                if rg == g and inner <= atoms and (w, rg, rc) not in withheld:
                    rest -= inner
            out.append(count_of(t, w, rest))
    return out


def derivable(t: Table, withheld: set, groupings: list[Grouping], w: int) -> bool:
    """Whether a withheld region with contributors is a combination of published ones."""
    regions = regions_of(t, groupings, w)
    atoms = sorted({a for r in regions.values() for a in r})
    rows = [[a in r for a in atoms] for key, r in regions.items() if (w, *key) not in withheld]
    if not rows:
        return False
    shown = np.array(rows, dtype=float)
    rank = np.linalg.matrix_rank(shown)
    return any(
        np.linalg.matrix_rank(np.vstack([shown, [[a in r for a in atoms]]])) == rank
        for key, r in regions.items()
        if (w, *key) in withheld
    )


def assert_safe(t: Table, withheld: set, k: int, groupings: list[Grouping]) -> None:
    for w in range(len(t.windows)):
        regions = regions_of(t, groupings, w)
        for key, atoms in regions.items():
            if (w, *key) not in withheld:
                assert not 0 < count_of(t, w, atoms) < k, (w, key)
        assert all(not 0 < n < k for n in residuals(t, withheld, groupings, w)), w
        assert not derivable(t, withheld, groupings, w), w
        # Two published windows of a region differ by 0 or at least k orchestrators.
        for key in regions:
            shown = [v for v in range(len(t.windows)) if (v, *key) not in withheld]
            for shorter, longer in itertools.pairwise(shown):
                atoms = [a for a, c in t.codes.items() if c.get(key[0]) == key[1]]
                between = set(t.windows[longer]) - set(t.windows[shorter])
                who = set().union(
                    set(), *(t.parts[s].get(a, set()) for s in between for a in atoms)
                )
                assert not 0 < len(who) < k, (shorter, key)


def random_table(
    rng: random.Random,
    *,
    places: tuple[int, int],
    orchestrators: int,
    countries: dict[str, str],
    regions: list[str],
    cells: dict[str, str] | None = None,
) -> Table:
    """A two-window table of ``places`` (a randint range) random places: a country (and
    its continent) or none, most with a Livepeer region (and, given ``cells``, a
    resolution-1 cell and its parent), each with up to 3 of ``orchestrators`` per slice."""
    atoms = {}
    for i in range(rng.randint(*places)):
        codes = {NETWORK: ""}
        if country := rng.choice([*countries, None]):
            codes[COUNTRY] = country
            codes[CONTINENT] = countries[country]
        if rng.random() < 0.9:
            codes[LIVEPEER] = rng.choice(regions)
            if cells is not None:
                cell = rng.choice(list(cells))
                codes[CELL1], codes[CELL0] = cell, cells[cell]
        slices = [
            {f"o{rng.randint(0, orchestrators - 1)}" for _ in range(rng.randint(0, 3))}
            for _ in range(2)
        ]
        atoms[f"p{i}"] = (codes, slices)
    return crossing(atoms)
