"""Optional metrics per orchestrator."""

from __future__ import annotations

import pytest

from api.core.services import Services
from api.ingest.allowlist import UnknownMetric
from api.ingest.sharing import NotRegistered, set_shared_metrics, shared_metrics

ADDR = "0x" + "4" * 40


async def test_set_and_read(services: Services) -> None:
    await services.db.execute("INSERT INTO orchestrators (address) VALUES ($1)", ADDR)
    assert await shared_metrics(services.db, ADDR) == frozenset()
    chosen = ["node_network_receive_bytes_total", "livepeer_value_redeemed"]
    assert await set_shared_metrics(services.db, ADDR, chosen) == tuple(sorted(chosen))
    assert await shared_metrics(services.db, ADDR) == frozenset(chosen)
    assert await set_shared_metrics(services.db, ADDR, []) == ()
    assert await shared_metrics(services.db, ADDR) == frozenset()


async def test_refusals(services: Services) -> None:
    with pytest.raises(NotRegistered):
        await set_shared_metrics(services.db, ADDR, ["livepeer_value_redeemed"])
    await services.db.execute("INSERT INTO orchestrators (address) VALUES ($1)", ADDR)
    with pytest.raises(UnknownMetric):
        await set_shared_metrics(services.db, ADDR, ["livepeer_versions"])
    assert await shared_metrics(services.db, ADDR) == frozenset()
