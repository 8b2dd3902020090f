"""``lpmetrics sharing set|show``."""

from __future__ import annotations

from api.core.services import Services
from api.core.settings import Settings
from tests.support.cli_env import lpmetrics

ADDR = "0x" + "cd" * 20


async def test_set_and_show(services: Services, settings: Settings) -> None:
    await services.db.execute("INSERT INTO orchestrators (address) VALUES ($1)", ADDR)
    result = await lpmetrics(
        settings,
        "sharing",
        "set",
        "--orchestrator",
        ADDR,
        "--optional",
        "node_network_receive_bytes_total",
        "livepeer_value_redeemed",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"{ADDR} shares the required metrics and: "
        "livepeer_value_redeemed, node_network_receive_bytes_total\n"
    )
    shown = await lpmetrics(settings, "sharing", "show", "--orchestrator", ADDR)
    assert shown.stdout == "livepeer_value_redeemed\nnode_network_receive_bytes_total\n"
    cleared = await lpmetrics(settings, "sharing", "set", "--orchestrator", ADDR)
    assert cleared.stdout.endswith("and: nothing else\n")
    assert await services.db.fetchval("SELECT optional_metrics FROM sharing") == []


async def test_refusals(services: Services, settings: Settings) -> None:
    unknown = await lpmetrics(settings, "sharing", "set", "--orchestrator", ADDR)
    assert unknown.returncode == 2
    assert unknown.stderr.strip().endswith("is not a registered orchestrator")
    await services.db.execute("INSERT INTO orchestrators (address) VALUES ($1)", ADDR)
    bad = await lpmetrics(
        settings, "sharing", "set", "--orchestrator", ADDR, "--optional", "go_goroutines"
    )
    assert bad.returncode == 2
    assert "go_goroutines is not an optional metric; optional metrics:" in bad.stderr
    assert "Traceback" not in bad.stderr + unknown.stderr
