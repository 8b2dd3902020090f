"""``publishable_totals``: the located total joins the public figures only when it
reveals nothing ``origins`` withholds (origins' audit has the total in)."""

from __future__ import annotations

import h3

from api.coverage.total import publishable_totals
from api.geo.grouping import NETWORK, Level, grouping
from api.stats.origins import Origins, origin_code
from api.stats.windows import Window

PLACES = {
    "DE": (50.11, 8.68),
    "AU": (-33.87, 151.21),
    "US": (40.71, -74.00),
    "BR": (-23.55, -46.63),
    "ZA": (-26.20, 28.05),
}


def _origins(served: dict[str, str], slice_: int = 0) -> Origins:
    rows = {}
    for country, who in served.items():
        cell = h3.latlng_to_cell(*PLACES[country], 3)
        for o in who:
            rows[(slice_, country, cell, o)] = 1.0
    return Origins(rows)


def test_origins_withholds_a_complement_so_the_total_can_be_published() -> None:
    # Sao Paulo is its own region at every level, served by P alone. With only it
    # withheld, the total minus the published places would be P's figure: origins'
    # audit has the total in, so it withholds another place with it and the total is
    # published (the greedy-era check withheld every share instead).
    origins = _origins({"DE": "PQR", "AU": "PQR", "US": "PQR", "BR": "P"})
    assert publishable_totals(origins, 3, 3) == frozenset(Window)
    withheld = origins.withheld(3, 3)
    finest = grouping(Level.CELL, 3)
    cells = {c: h3.latlng_to_cell(*PLACES[c], 3) for c in PLACES}
    hidden = [
        c for c in ("DE", "AU", "US", "BR") if (Window.LAST_HOUR, finest, cells[c]) in withheld
    ]
    assert "BR" in hidden and len(hidden) >= 2  # the rest of the total: P, Q and R
    assert (Window.LAST_HOUR, NETWORK, "") not in withheld


def test_total_minus_the_published_places_would_show_one_orchestrator() -> None:
    # Should origins withhold Sao Paulo alone (an audit without the total), the
    # independent check keeps the total, and so every share, back.
    origins = _origins({"DE": "PQR", "AU": "PQR", "US": "PQR", "BR": "P"})
    sao_paulo = ("BR", h3.latlng_to_cell(*PLACES["BR"], 3))
    groupings = [grouping(Level.CONTINENT), grouping(Level.COUNTRY)]
    groupings += [grouping(Level.LIVEPEER_REGION)]
    groupings += [grouping(Level.CELL, r) for r in range(4)]
    origins._withheld[(3, 3)] = frozenset(
        (w, g, origin_code(sao_paulo, g)) for w in Window for g in groupings
    )
    assert publishable_totals(origins, 3, 3) == frozenset()


def test_total_is_published_when_the_withheld_rest_has_enough() -> None:
    # Sao Paulo and Johannesburg share their nearest Livepeer region (SAO) and are
    # withheld together: the total minus the rest is their sum, three orchestrators.
    origins = _origins({"DE": "PQR", "AU": "PQR", "BR": "P", "ZA": "QR"})
    assert publishable_totals(origins, 3, 3) == frozenset(Window)


def test_too_few_orchestrators_in_all() -> None:
    assert publishable_totals(_origins({"DE": "PQ"}), 3, 3) == frozenset()
    assert publishable_totals(_origins({}), 3, 3) == frozenset(Window)


def test_window_difference() -> None:
    # The hour has P, Q, R; the rest of the day adds S alone: the day's total minus
    # the hour's would be S's, so the hour's total is withheld, the day's is not.
    rows = dict(_origins({"DE": "PQR", "AU": "PQR"}).rows)
    rows[(1, "DE", h3.latlng_to_cell(*PLACES["DE"], 3), "S")] = 1.0
    totals = publishable_totals(Origins(rows), 3, 3)
    assert Window.LAST_DAY in totals and Window.LAST_HOUR not in totals
