"""The least complementary suppression: never less protection than the audit asks for,
and never more cost than the brute-force optimum."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from api.disclosure import milp
from api.disclosure.audit import Table, prepare, protect
from api.disclosure.milp import withhold
from api.disclosure.model import build
from api.geo.grouping import NETWORK, Grouping, Level, grouping
from tests.support.disclosure_tables import (
    assert_safe,
    crossing,
    place,
    random_table,
    regions_of,
    who_of,
)

CONTINENT = grouping(Level.CONTINENT)
COUNTRY = grouping(Level.COUNTRY)
LIVEPEER = grouping(Level.LIVEPEER_REGION)
CELL0 = grouping(Level.CELL, 0)
K = 3


def test_seven_orchestrators_one_complementary_region() -> None:
    # The case: three orchestrators in FRA, three in LAX, one in NYC.
    t = crossing(
        {
            "fra": place("EU", "DE", "FRA", {"a", "b", "c"}),
            "lax": place("NA", "US", "LAX", {"d", "e", "f"}),
            "nyc": place("NA", "US", "NYC", {"g"}),
        }
    )
    groupings = [NETWORK, CONTINENT, COUNTRY, LIVEPEER]
    solution = withhold(t, groupings, K)
    assert solution.proven and solution.method == "milp"
    assert solution.cells == {(0, LIVEPEER, "NYC"), (0, LIVEPEER, "LAX")}
    assert_safe(t, solution.cells, K, groupings)
    # The greedy withheld the network and everything else.
    assert (0, NETWORK, "") in protect(t, groupings, K)


def _full_safe(t: Table, withheld: set, groupings: list[Grouping]) -> bool:
    """The audit's rules, and beyond them: no set of places with 1 to k-1 orchestrators
    is a combination of published regions (the audit looks at blocks only)."""
    try:
        assert_safe(t, withheld, K, groupings)
    except AssertionError:
        return False
    for w in range(len(t.windows)):
        who = who_of(t, w)
        regions = regions_of(t, groupings, w)
        atoms = sorted({a for r in regions.values() for a in r})
        rows = [[a in r for a in atoms] for key, r in regions.items() if (w, *key) not in withheld]
        if not rows:
            continue
        shown = np.array(rows, dtype=float)
        rank = np.linalg.matrix_rank(shown)
        for n in range(1, len(atoms) + 1):
            for subset in itertools.combinations(atoms, n):
                if not 0 < len(set().union(*(who[a] for a in subset))) < K:
                    continue
                vector = [[a in subset for a in atoms]]
                if np.linalg.matrix_rank(np.vstack([shown, vector])) == rank:
                    return False
    return True


def _brute_force(t: Table, groupings: list[Grouping]) -> float | None:
    """The least cost (the solver's objective) of a fully safe choice that shows the
    network, trying every choice of the regions that are not withheld for their own
    sake, cheapest first."""
    prepared = prepare(t, groupings)
    model = build(prepared, K, groupings, True)
    free = [j for j in range(len(model.cost)) if model.lower[j] < 0.5 < model.upper[j]]
    fixed = [j for j in range(len(model.cost)) if model.lower[j] > 0.5]
    choices = []
    for n in range(len(free) + 1):
        for chosen in itertools.combinations(free, n):
            choices.append((float(model.cost[list(chosen) + fixed].sum()), chosen))
    for cost, chosen in sorted(choices):
        cells = {
            (model.window[j], *prepared.keys[r])
            for j in [*chosen, *fixed]
            for r in model.regions[j]
        }
        if _full_safe(t, cells, groupings):
            return cost
    return None


def _random_table(rng: random.Random) -> Table:
    return random_table(
        rng,
        places=(2, 5),
        orchestrators=9,
        countries={"DE": "EU", "FR": "EU", "US": "NA", "CA": "NA"},
        regions=["FRA", "LON", "NYC"],
    )


def test_random_tables_against_the_brute_force_optimum() -> None:
    rng = random.Random(11)
    groupings = [NETWORK, CONTINENT, COUNTRY, LIVEPEER]
    compared = complementary = 0
    for _ in range(120):
        t = _random_table(rng)
        solution = withhold(t, groupings, K)
        assert_safe(t, solution.cells, K, groupings)  # never less than the audit asks for
        assert solution.primary <= solution.cells
        assert solution.method == "milp" and solution.proven, solution.notes
        optimum = _brute_force(t, groupings)
        assert optimum is not None
        assert solution.cost is not None and solution.cost <= optimum + 1e-9
        compared += 1
        complementary += solution.cells > solution.primary
        # The network is withheld only with 1 to k-1 orchestrators, or where its own
        # windows differ by 1 to k-1 (its day minus its hour).
        everyone = [set().union(*who_of(t, w).values()) for w in range(len(t.windows))]
        between = set().union(*t.parts[1].values()) if len(t.parts) > 1 else set()
        for w, g, _ in solution.cells:
            if g == NETWORK:
                assert 0 < len(everyone[w]) < K or 0 < len(between) < K
    assert compared == 120 and complementary > 20


@pytest.mark.parametrize("budget", [0.0])
def test_the_greedy_is_the_fallback(budget: float) -> None:
    rng = random.Random(3)
    groupings = [NETWORK, CONTINENT, COUNTRY, LIVEPEER]
    for _ in range(30):
        t = _random_table(rng)
        solution = withhold(t, groupings, K, budget=budget)
        assert solution.method == "greedy" and not solution.proven
        assert solution.cells == protect(t, groupings, K)


def test_a_table_too_large_for_the_solver_gets_the_greedy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    t = _random_table(random.Random(5))
    groupings = [NETWORK, CONTINENT, COUNTRY, LIVEPEER, CELL0]
    monkeypatch.setattr(milp, "MAX_VARIABLES", 0)
    solution = withhold(t, groupings, K)
    assert solution.method == "greedy"
    assert solution.cells == protect(t, groupings, K)
