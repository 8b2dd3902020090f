"""The convergence model on scripted histories, end to end on the server side: counters
sent through the real ingest endpoint, rolled up by the real rollup, calibrated and
judged by the real statements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.convergence.calibrate import calibrate_due
from api.convergence.evaluate import NodeVerdict, judge_window
from api.convergence.model import Source, Status
from api.core.services import Services
from api.core.settings import Settings
from api.ingest.sharing import set_shared_metrics
from api.rollup.minutes import roll_up
from api.stats.windows import Window
from tests.api.convergence.history import (
    NIC_RX,
    NIC_TX,
    PORT_RX,
    PORT_TX,
    RENDITION_BYTES_PER_MIL_PIXEL,
    SOURCE_BYTES_PER_SECOND,
    Script,
    send_history,
)
from tests.support.ingest import ADDRESS, Orchestrator, now_ms, register
from tests.support.services import running_server

HOURS = 8
MINUTES = HOURS * 60
HOUR = timedelta(hours=1)


@pytest.fixture
async def http(services: Services, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    # A backfill of hours arrives at once: no rate limit in the way.
    fast = settings.model_copy(update={"ingest_samples_per_second": 10_000_000})
    async with running_server(fast, workers=[]) as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            yield client


@pytest.fixture
async def orch(services: Services) -> Orchestrator:
    o = await register(services, ADDRESS)
    await set_shared_metrics(services.db, o.address, [NIC_RX, NIC_TX, PORT_RX, PORT_TX])
    return o


def scripts() -> list[Script]:
    m = MINUTES
    return [
        Script("honest", m, seed=1, noise=0.005),
        Script("inflated", m, seed=2, noise=0.005, inflate_from=m - 60),
        Script("background", m, seed=3, noise=0.002, background=(150_000.0, 90_000.0)),
        Script(
            "resets",
            m,
            seed=4,
            noise=0.002,
            reset_livepeer_at=(100, m - 20),
            reset_nic_at=(200, m - 40),
        ),
        Script("young", m, seed=5, noise=0.002, nic=False, port=True, port_from=m - 5 * 60),
        Script("port", m, seed=6, noise=0.002, background=(150_000.0, 90_000.0), port=True),
        Script("late-port", m, seed=7, noise=0.002, port=True, port_from=m - 3 * 60),
        Script("no-nic", m, seed=8, nic=False),
    ]


@pytest.fixture
async def judged(
    services: Services, settings: Settings, orch: Orchestrator, http: httpx.AsyncClient
) -> dict[str, NodeVerdict]:
    # The history ends with the last complete minute, which becomes the tick.
    last = now_ms() // 60_000 * 60_000 - 60_000
    start = last - (MINUTES - 1) * 60_000
    await send_history(http, orch.token, scripts(), start)
    async with services.db.acquire() as conn:
        while await roll_up(conn):
            pass
        tick = datetime.fromtimestamp(last / 1000, UTC)
        # Calibrated an hour before the tick, on honest history; the inflation starts then.
        assert await calibrate_due(conn, settings, tick - HOUR) > 0
    verdicts = await judge_window(services.db, tick, Window.LAST_HOUR, 0.02)
    return {
        r["name"]: verdicts.get(r["id"])
        for r in await services.db.fetch("SELECT id, name FROM nodes")
    }


async def test_scripted_histories(
    services: Services, judged: dict[str, NodeVerdict | None], settings: Settings
) -> None:
    """One history load (the expensive part) serves every check."""
    check_verdicts(judged, settings)
    await check_physics(services)
    await check_daily_refresh(services, settings)


def check_verdicts(judged: dict[str, NodeVerdict | None], settings: Settings) -> None:
    assert settings.convergence_calibration_hours == 6

    honest = judged["honest"].verdict
    # Bytes follow the work within 0.5 % minute by minute: the hour converges tightly.
    assert honest.status is Status.CONVERGED and honest.source is Source.NIC
    assert honest.error < 0.005
    assert honest.measured_bytes == pytest.approx(honest.expected_bytes, rel=0.005)

    inflated = judged["inflated"].verdict
    # Reporting 10 % more work than the traffic carried: expected is 10 % above measured.
    assert inflated.status is Status.DIVERGED
    assert inflated.error == pytest.approx(0.10, abs=0.01)
    assert inflated.expected_bytes > inflated.measured_bytes

    background = judged["background"].verdict
    # Constant unrelated traffic is the time term's; the work terms stay physical.
    assert background.status is Status.CONVERGED and background.error < 0.01

    resets = judged["resets"].verdict
    # Counter resets of either side, during calibration and in the window, change nothing.
    assert resets.status is Status.CONVERGED and resets.error < 0.01

    young = judged["young"].verdict
    # Five hours of port counters, fewer than LPM_CONVERGENCE_CALIBRATION_HOURS.
    assert young.status is Status.CALIBRATING and young.source is Source.PORT
    assert young.error is None and young.expected_bytes is None

    port = judged["port"].verdict
    # Port counters win over the NIC's and see none of the background traffic.
    assert port.status is Status.CONVERGED and port.source is Source.PORT

    late = judged["late-port"].verdict
    # Port counters added three hours ago: judged on the NIC until their model is ready.
    assert late.status is Status.CONVERGED and late.source is Source.NIC

    # A node without byte counters has no verdict row: NO_SOURCE where it is shown.
    assert judged["no-nic"] is None


async def check_physics(services: Services) -> None:
    rows = {
        (r["name"], r["source"]): r
        for r in await services.db.fetch(
            "SELECT n.name, c.source, c.rx_coef, c.tx_coef, c.minutes, c.fit_error"
            " FROM convergence_calibrations c JOIN nodes n ON n.id = c.node"
        )
    }
    assert ("young", "PORT") not in rows and ("late-port", "PORT") not in rows
    assert ("late-port", "NIC") in rows
    background = rows[("background", "NIC")]
    # Received: source seconds at the source bitrate plus 150 kB/s of other traffic.
    _px, src, per_second = background["rx_coef"]
    assert src == pytest.approx(SOURCE_BYTES_PER_SECOND, rel=0.02)
    assert per_second == pytest.approx(150_000, rel=0.05)
    px, _src, per_second = background["tx_coef"]
    assert px == pytest.approx(RENDITION_BYTES_PER_MIL_PIXEL, rel=0.02)
    assert per_second == pytest.approx(90_000, rel=0.05)
    assert background["fit_error"] < 0.01
    # Seven hours of history by the calibration time (the first minute adds nothing).
    assert 7 * 60 - 2 <= rows[("honest", "NIC")]["minutes"] <= 7 * 60


async def check_daily_refresh(services: Services, settings: Settings) -> None:
    first = await services.db.fetchval("SELECT max(calibrated_at) FROM convergence_calibrations")
    tick = first + HOUR
    async with services.db.acquire() as conn:
        # Within the day nothing is due again, although more history has arrived...
        assert await calibrate_due(conn, settings, tick) == 0
        # ...a day on, every model is refitted on the trailing week.
        await conn.execute(
            "UPDATE convergence_calibrations SET calibrated_at = calibrated_at - interval '1 day'"
        )
        assert await calibrate_due(conn, settings, tick) == 7  # port has a PORT and a NIC model
    assert await services.db.fetchval(
        "SELECT array_agg(DISTINCT calibrated_at) FROM convergence_calibrations"
    ) == [tick]
