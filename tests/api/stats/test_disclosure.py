"""Disclosure control: primary and secondary suppression, levels and windows."""

from __future__ import annotations

import random

from api.stats.disclosure import Table, protect
from api.stats.places import NETWORK, Grouping, Level, grouping

CONTINENT = grouping(Level.CONTINENT)
COUNTRY = grouping(Level.COUNTRY)
GROUPINGS = [NETWORK, CONTINENT, COUNTRY]
PAIRS = [(NETWORK, CONTINENT), (NETWORK, COUNTRY), (CONTINENT, COUNTRY)]
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
    withheld = protect(t, GROUPINGS, PAIRS, K)
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
    withheld = protect(t, GROUPINGS, PAIRS, K)
    # The network minus both countries would be x's unlocated node: one country goes
    # (the first in code order among the smallest), and one continent for the same reason.
    assert withheld == {(0, COUNTRY, "DE"), (0, CONTINENT, "EU")}


def test_two_windows() -> None:
    t = table({"de": ("EU", "DE", [{"a", "b", "c"}, {"d"}])})
    withheld = protect(t, [NETWORK, COUNTRY], [(NETWORK, COUNTRY)], K)
    # The day minus the hour would be d alone: the hour is withheld, network and country.
    assert withheld == {(0, NETWORK, ""), (0, COUNTRY, "DE")}
    # When the older slice has the same orchestrators, both windows can be shown.
    t = table({"de": ("EU", "DE", [{"a", "b", "c"}, {"a", "b", "c"}])})
    assert protect(t, [NETWORK, COUNTRY], [(NETWORK, COUNTRY)], K) == set()


def test_threshold_one_withholds_nothing() -> None:
    t = table({"fr": ("EU", "FR", [{"d"}])})
    assert protect(t, GROUPINGS, PAIRS, 1) == set()


def _hidden_ok(t: Table, withheld: set, k: int, groupings: list[Grouping]) -> None:
    """No published parent has a hidden remainder of 1..k-1 orchestrators, and no
    published cell has 1..k-1 orchestrators."""
    for w, slices in enumerate(t.windows):
        who = {a: set().union(*(t.parts[s].get(a, frozenset()) for s in slices)) for a in t.codes}
        for parent, child in PAIRS:
            parents = {c.get(parent) for c in t.codes.values()} - {None}
            for p in parents:
                if (w, parent, p) in withheld:
                    continue
                atoms = [a for a, c in t.codes.items() if c.get(parent) == p]
                assert not 0 < len(set().union(*(who[a] for a in atoms))) < k
                hidden = [
                    a
                    for a in atoms
                    if t.codes[a].get(child) is None or (w, child, t.codes[a][child]) in withheld
                ]
                assert not 0 < len(set().union(set(), *(who[a] for a in hidden))) < k


def test_random_tables_keep_the_invariant() -> None:
    rng = random.Random(7)
    countries = {"DE": "EU", "FR": "EU", "NL": "EU", "US": "NA", "CA": "NA", "BR": "SA"}
    for _ in range(200):
        atoms = {}
        for i in range(rng.randint(1, 9)):
            country = rng.choice([*countries, None])
            slices = [{f"o{rng.randint(0, 7)}" for _ in range(rng.randint(0, 3))} for _ in range(2)]
            atoms[f"p{i}"] = (countries.get(country), country, slices)
        t = table(atoms)
        withheld = protect(t, GROUPINGS, PAIRS, K)
        _hidden_ok(t, withheld, K, GROUPINGS)
