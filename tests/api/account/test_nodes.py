from api.account.nodes import declare_location, own_node, own_nodes
from api.core.services import Services
from api.geo.locate import declared
from tests.support.wallet import new_account, register


async def _orchestrator(services: Services) -> str:
    address = new_account().address.lower()
    await register(services.db, address)
    return address


async def test_own_nodes_are_only_mine_in_name_order(services: Services) -> None:
    me, other = await _orchestrator(services), await _orchestrator(services)
    for address, name in [(me, "b"), (me, "a"), (other, "c")]:
        await services.db.execute(
            "INSERT INTO nodes (orchestrator, name) VALUES ($1, $2)", address, name
        )
    assert [n.name for n in await own_nodes(services.db, me)] == ["a", "b"]
    assert [n.name for n in await own_nodes(services.db, other)] == ["c"]


async def test_a_declared_location_wins_over_geoip_and_can_be_cleared(services: Services) -> None:
    me = await _orchestrator(services)
    node_id = await services.db.fetchval(
        "INSERT INTO nodes (orchestrator, name) VALUES ($1, 'n') RETURNING id", me
    )
    place = declared(-23.55, -46.63, "BR")
    node = await declare_location(services.db, me, node_id, place)
    assert node is not None and node.location == place
    assert (await own_node(services.db, me, node_id)).location == place
    cleared = await declare_location(services.db, me, node_id, None)
    assert cleared is not None and cleared.location is None


async def test_declaring_for_a_node_that_is_not_mine_changes_nothing(services: Services) -> None:
    me, other = await _orchestrator(services), await _orchestrator(services)
    theirs = await services.db.fetchval(
        "INSERT INTO nodes (orchestrator, name) VALUES ($1, 'n') RETURNING id", other
    )
    assert await declare_location(services.db, me, theirs, declared(1, 1)) is None
    assert await declare_location(services.db, me, 10**12, declared(1, 1)) is None
    assert (await own_node(services.db, other, theirs)).location is None
