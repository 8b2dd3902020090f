"""What each orchestrator shares: optional metrics and per-node figures."""

from __future__ import annotations

import pytest

from api.core.services import Services
from api.ingest.allowlist import UnknownMetric
from api.ingest.sharing import (
    DEFAULT,
    NotRegistered,
    get_sharing,
    set_shared_metrics,
    set_sharing,
    shared_metrics,
)
from tests.support.wallet import new_account, register

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


async def _orchestrator(services: Services) -> str:
    address = new_account().address.lower()
    await register(services.db, address)
    return address


async def test_defaults_until_changed(services: Services) -> None:
    assert await get_sharing(services.db, await _orchestrator(services)) == DEFAULT


async def test_none_leaves_a_setting_as_it_is(services: Services) -> None:
    me = await _orchestrator(services)
    first = await set_sharing(
        services.db, me, optional_metrics=["livepeer_value_redeemed"] * 2, share_per_node=None
    )
    assert first.optional_metrics == ("livepeer_value_redeemed",)
    assert first.share_per_node is False and first.updated_at is not None
    second = await set_sharing(services.db, me, share_per_node=True)
    assert second.optional_metrics == ("livepeer_value_redeemed",) and second.share_per_node
    third = await set_sharing(services.db, me, optional_metrics=[])
    assert third.optional_metrics == () and third.share_per_node
    assert await get_sharing(services.db, me) == third


async def test_only_optional_metrics_can_be_chosen(services: Services) -> None:
    me = await _orchestrator(services)
    with pytest.raises(UnknownMetric):
        await set_sharing(services.db, me, optional_metrics=["livepeer_tickets_recv"])
    with pytest.raises(ValueError, match="not an optional metric"):
        await set_sharing(services.db, me, optional_metrics=["secret_sauce"])
    assert await get_sharing(services.db, me) == DEFAULT
