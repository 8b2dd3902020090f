"""Disclosure control: primary and secondary suppression, levels and windows."""

from __future__ import annotations

import itertools
import random

import numpy as np

from api.disclosure.audit import Table, protect
from api.geo.grouping import NETWORK, Grouping, Level, grouping

CONTINENT = grouping(Level.CONTINENT)
COUNTRY = grouping(Level.COUNTRY)
GROUPINGS = [NETWORK, CONTINENT, COUNTRY]
K = 3


def table(atoms: dict[str, tuple[str | None, str | None, list[set[str]]]]) -> Table:
    """atom -> (continent, country, orchestrators per slice)."""
    codes = {}
    for atom, (continent, country, _) in atoms.items():
        codes[atom] = {NETWORK: ""}
        if continent:
            codes[atom][CONTINENT] = continent
        if country:
            codes[atom][COUNTRY] = country
    slices = max(len(v[2]) for v in atoms.values())
    parts = [
        {a: frozenset(v[2][s]) for a, v in atoms.items() if s < len(v[2]) and v[2][s]}
        for s in range(slices)
    ]
    windows = [tuple(range(i + 1)) for i in range(slices)]
    return Table(codes, parts, windows)


def test_parent_minus_its_shown_children() -> None:
    t = table(
        {
            "de": ("EU", "DE", [{"a", "b", "c"}]),
            "fr": ("EU", "FR", [{"d"}]),
            "us": ("NA", "US", [{"e", "f", "g"}]),
        }
    )
    withheld = protect(t, GROUPINGS, K)
    # FR has one orchestrator; EU minus DE would be FR, so DE goes as well.
    assert withheld == {(0, COUNTRY, "FR"), (0, COUNTRY, "DE")}


def test_places_without_a_code_count_as_hidden() -> None:
    t = table(
        {
            "unknown": (None, None, [{"x"}]),
            "de": ("EU", "DE", [{"a", "b", "c"}]),
            "us": ("NA", "US", [{"d", "e", "f"}]),
        }
    )
    withheld = protect(t, GROUPINGS, K)
    # The network minus both countries would be x's unlocated node: one country goes
    # (the first in code order among the smallest), and one continent for the same reason.
    assert withheld == {(0, COUNTRY, "DE"), (0, CONTINENT, "EU")}


def test_two_windows() -> None:
    t = table({"de": ("EU", "DE", [{"a", "b", "c"}, {"d"}])})
    withheld = protect(t, [NETWORK, COUNTRY], K)
    # The day minus the hour would be d alone: the hour is withheld, network and country.
    assert withheld == {(0, NETWORK, ""), (0, COUNTRY, "DE")}
    # When the older slice has the same orchestrators, both windows can be shown.
    t = table({"de": ("EU", "DE", [{"a", "b", "c"}, {"a", "b", "c"}])})
    assert protect(t, [NETWORK, COUNTRY], K) == set()


def test_threshold_one_withholds_nothing() -> None:
    t = table({"fr": ("EU", "FR", [{"d"}])})
    assert protect(t, GROUPINGS, 1) == set()


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


def test_a_livepeer_region_minus_the_country_it_holds() -> None:
    # FRA holds all of CZ and western DE, where d runs alone; PRG the rest of DE.
    t = crossing(
        {
            "cz": ({NETWORK: "", COUNTRY: "CZ", LIVEPEER: "FRA"}, [{"a", "b", "c"}]),
            "de-west": ({NETWORK: "", COUNTRY: "DE", LIVEPEER: "FRA"}, [{"d"}]),
            "de-east": ({NETWORK: "", COUNTRY: "DE", LIVEPEER: "PRG"}, [{"e", "f", "g"}]),
            "us": ({NETWORK: "", COUNTRY: "US", LIVEPEER: "NYC"}, [{"h", "i", "j", "l", "m"}]),
        }
    )
    groupings = [NETWORK, COUNTRY, LIVEPEER]
    # Every region has 3 orchestrators or more: nothing is withheld for its own sake,
    # but FRA - CZ and DE - PRG are d alone, and the network - DE - US is CZ again.
    assert protect(t, groupings, K, audit=False) == set()
    withheld = protect(t, groupings, K)
    assert {(0, COUNTRY, "CZ"), (0, LIVEPEER, "PRG")} <= withheld
    assert (0, NETWORK, "") not in withheld
    assert (0, COUNTRY, "US") not in withheld and (0, LIVEPEER, "NYC") not in withheld
    _safe(t, withheld, K, groupings)


def test_three_levels_only_the_span_catches() -> None:
    # X (p1, one orchestrator) = R1 - c + Y: a Livepeer region minus a cell plus a
    # country. No containment residual is small (no network total, as for demand
    # origins), so only the linear check sees it.
    t = crossing(
        {
            "p1": ({COUNTRY: "X", LIVEPEER: "R1", CELL0: "c1"}, [{"a"}]),
            "p2": ({LIVEPEER: "R1", CELL0: "c"}, [{"b", "c", "d"}]),
            "p3": ({COUNTRY: "Y", LIVEPEER: "R2", CELL0: "c"}, [{"e", "f", "g"}]),
        }
    )
    groupings = [COUNTRY, LIVEPEER, CELL0]
    primary = protect(t, groupings, K, audit=False)
    assert primary == {(0, COUNTRY, "X"), (0, CELL0, "c1")}
    assert all(not 0 < n < K for n in _residuals(t, primary, groupings, 0))
    assert _derivable(t, primary, groupings, 0)
    withheld = protect(t, groupings, K)
    assert withheld > primary
    _safe(t, withheld, K, groupings)


def place(continent: str, country: str, region: str, who: set[str]):
    """One place of a one-window table, coded at the network, continent, country and
    Livepeer-region levels, with the orchestrators it holds."""
    codes = {NETWORK: "", CONTINENT: continent, COUNTRY: country, LIVEPEER: region}
    return (codes, [who])


def test_a_healthy_table_loses_nothing() -> None:
    t = crossing(
        {
            "de1": place("EU", "DE", "FRA", {"a", "b", "c"}),
            "de2": place("EU", "DE", "PRG", {"d", "e", "f"}),
            "cz": place("EU", "CZ", "PRG", {"g", "h", "i"}),
            "us": place("NA", "US", "NYC", {"j", "k", "l"}),
        }
    )
    assert protect(t, [NETWORK, CONTINENT, COUNTRY, LIVEPEER], K) == set()


def _who(t: Table, w: int) -> dict[object, set[str]]:
    return {
        a: set().union(*(t.parts[s].get(a, frozenset()) for s in t.windows[w])) for a in t.codes
    }


def _regions(t: Table, groupings: list[Grouping], w: int) -> dict[tuple[Grouping, str], set]:
    """Regions with contributors in window w: their atoms with contributors."""
    who = _who(t, w)
    out: dict[tuple[Grouping, str], set] = {}
    for a, codes in t.codes.items():
        for g in groupings:
            if g in codes and who[a]:
                out.setdefault((g, codes[g]), set()).add(a)
    return out


def _count(t: Table, w: int, atoms: set) -> int:
    who = _who(t, w)
    return len(set().union(set(), *(who[a] for a in atoms)))


def _residuals(t: Table, withheld: set, groupings: list[Grouping], w: int) -> list[int]:
    """Orchestrators of every published region minus the published regions of another
    grouping lying inside it."""
    regions = _regions(t, groupings, w)
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
            out.append(_count(t, w, rest))
    return out


def _derivable(t: Table, withheld: set, groupings: list[Grouping], w: int) -> bool:
    """Whether a withheld region with contributors is a combination of published ones."""
    regions = _regions(t, groupings, w)
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


def _safe(t: Table, withheld: set, k: int, groupings: list[Grouping]) -> None:
    for w in range(len(t.windows)):
        regions = _regions(t, groupings, w)
        for key, atoms in regions.items():
            if (w, *key) not in withheld:
                assert not 0 < _count(t, w, atoms) < k, (w, key)
        assert all(not 0 < n < k for n in _residuals(t, withheld, groupings, w)), w
        assert not _derivable(t, withheld, groupings, w), w
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


def test_random_tables_keep_the_invariant() -> None:
    rng = random.Random(7)
    countries = {"DE": "EU", "FR": "EU", "NL": "EU", "US": "NA", "CA": "NA", "BR": "SA"}
    regions = ["FRA", "LON", "NYC", "SAO"]
    cells = {"c10": "c0a", "c11": "c0a", "c12": "c0b", "c13": "c0c"}
    groupings = [NETWORK, CONTINENT, COUNTRY, LIVEPEER, CELL0, CELL1]
    for _ in range(150):
        atoms = {}
        for i in range(rng.randint(1, 9)):
            codes = {NETWORK: ""}
            if country := rng.choice([*countries, None]):
                codes[COUNTRY] = country
                codes[CONTINENT] = countries[country]
            if rng.random() < 0.9:
                codes[LIVEPEER] = rng.choice(regions)
                cell = rng.choice(list(cells))
                codes[CELL1], codes[CELL0] = cell, cells[cell]
            slices = [{f"o{rng.randint(0, 9)}" for _ in range(rng.randint(0, 3))} for _ in range(2)]
            atoms[f"p{i}"] = (codes, slices)
        t = crossing(atoms)
        _safe(t, protect(t, groupings, K), K, groupings)
