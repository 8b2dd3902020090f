"""Disclosure control: primary and secondary suppression, levels and windows."""

from __future__ import annotations

import random

from api.disclosure.audit import Table, protect
from api.geo.grouping import NETWORK
from tests.support.disclosure_tables import (
    CELL0,
    CELL1,
    CONTINENT,
    COUNTRY,
    LIVEPEER,
    assert_safe,
    crossing,
    derivable,
    place,
    random_table,
    residuals,
)

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
    assert_safe(t, withheld, K, groupings)


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
    assert all(not 0 < n < K for n in residuals(t, primary, groupings, 0))
    assert derivable(t, primary, groupings, 0)
    withheld = protect(t, groupings, K)
    assert withheld > primary
    assert_safe(t, withheld, K, groupings)


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


def test_random_tables_keep_the_invariant() -> None:
    rng = random.Random(7)
    countries = {"DE": "EU", "FR": "EU", "NL": "EU", "US": "NA", "CA": "NA", "BR": "SA"}
    regions = ["FRA", "LON", "NYC", "SAO"]
    cells = {"c10": "c0a", "c11": "c0a", "c12": "c0b", "c13": "c0c"}
    groupings = [NETWORK, CONTINENT, COUNTRY, LIVEPEER, CELL0, CELL1]
    for _ in range(150):
        t = random_table(
            rng, places=(1, 9), orchestrators=10, countries=countries, regions=regions, cells=cells
        )
        assert_safe(t, protect(t, groupings, K), K, groupings)
