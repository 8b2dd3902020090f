"""``series``: buckets, metrics, and the hourly and minute paths agreeing."""

from __future__ import annotations

import httpx
import pytest

from api.core.services import Services
from api.rollup.hours import refresh
from tests.support.stats_fixtures import forget_answers, graphql, pin
from tests.support.stats_scenario import Loaded

QUERY = """query($metric: SeriesMetric!, $from: DateTime!, $to: DateTime!, $step: Int!,
                 $level: RegionLevel, $code: String) {
  series(metric: $metric, from: $from, to: $to, step: $step, level: $level, code: $code) {
    time value precision
  }
}"""


def _args(metric: str, step: int = 3600, **more: object) -> dict[str, object]:
    return {
        "metric": metric,
        "from": "2024-05-01T10:00:00Z",
        "to": "2024-05-01T13:00:00Z",
        "step": step,
        **more,
    }


async def _values(http: httpx.AsyncClient, metric: str, **more: object) -> list[float]:
    data = await graphql(http, QUERY, _args(metric, **more))
    assert {p["precision"] for p in data["series"]} <= {"EXACT"}
    return [p["value"] for p in data["series"]]


async def test_hourly_network_series_by_hand(as_orchestrator: httpx.AsyncClient) -> None:
    # Buckets 10:00, 11:00 and 12:00 (which has only the tick's minute so far). The
    # scripted minutes start at 10:31: 29 minutes of 28 streams in the 10:00 bucket.
    assert await _values(as_orchestrator, "STREAMS") == pytest.approx(
        [29 * 28 / 60, (60 * 22 + 41 * 6) / 60, 22.0]
    )
    assert await _values(as_orchestrator, "MAX_STREAMS") == [28.0, 28.0, 22.0]
    assert await _values(as_orchestrator, "BROADCASTERS") == [3.0, 3.0, 2.0]
    assert await _values(as_orchestrator, "SEGMENTS") == [29 * 12, 60 * 9 + 41 * 3, 9.0]


async def test_region_series(as_orchestrator: httpx.AsyncClient) -> None:
    values = await _values(as_orchestrator, "STREAMS", level="COUNTRY", code="us")
    assert values == pytest.approx([29 * 14 / 60, 14.0, 14.0])


async def test_minute_steps_for_orchestrators(as_orchestrator: httpx.AsyncClient) -> None:
    data = await graphql(
        as_orchestrator,
        QUERY,
        {**_args("STREAMS", step=60), "from": "2024-05-01T11:38:00Z", "to": "2024-05-01T11:42:00Z"},
    )
    # d1 went silent after 11:40.
    assert [p["value"] for p in data["series"]] == [28.0, 28.0, 28.0, 22.0]


async def test_hourly_tables_agree_with_minutes(
    services: Services, scripted: Loaded, as_orchestrator: httpx.AsyncClient
) -> None:
    metrics = ["STREAMS", "MAX_STREAMS", "CAPACITY", "BROADCASTERS", "PIXELS_PER_SECOND"]
    wide = {"from": "2024-04-01T00:00:00Z", "to": "2024-05-01T13:00:00Z"}
    before = {m: await graphql(as_orchestrator, QUERY, {**_args(m), **wide}) for m in metrics}
    await refresh(services.db)
    await forget_answers(services)
    await pin(services)
    after = {m: await graphql(as_orchestrator, QUERY, {**_args(m), **wide}) for m in metrics}
    assert after == before
    assert len(before["STREAMS"]["series"]) == 30 * 24 + 13


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"step": 90}, "whole number of minutes"),
        ({"to": "2024-05-01T09:00:00Z"}, "later than"),
        ({"step": 60, "from": "2024-01-01T00:00:00Z"}, "at most 1000"),
        ({"level": "COUNTRY"}, "both level and code"),
        ({"level": "COUNTRY", "code": "XX"}, "not a COUNTRY code"),
    ],
)
async def test_bad_arguments(
    as_orchestrator: httpx.AsyncClient, changes: dict, message: str
) -> None:
    response = await as_orchestrator.post(
        "/graphql", json={"query": QUERY, "variables": {**_args("STREAMS"), **changes}}
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in error["message"]
