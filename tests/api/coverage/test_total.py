"""``publishable_totals``: the located total joins the public figures only when it
reveals nothing ``origins`` withholds."""

from __future__ import annotations

import h3

from api.coverage.total import publishable_totals
from api.stats.origins import Origins
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


def test_total_minus_the_published_places_would_show_one_orchestrator() -> None:
    # Sao Paulo is its own region at every level, served by P alone: origins withholds
    # it and nothing else, so the total would give it away.
    origins = _origins({"DE": "PQR", "AU": "PQR", "US": "PQR", "BR": "P"})
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
