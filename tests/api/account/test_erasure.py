from api.account.erasure import erase_orchestrator_data
from api.core.services import Services
from api.geo.locate import declared
from api.geo.places import location_id
from auth import tokens
from tests.support.wallet import new_account, register


async def _orchestrator(services: Services) -> str:
    address = new_account().address.lower()
    await register(services.db, address)
    return address


async def test_a_place_another_orchestrator_declared_too_stays(services: Services) -> None:
    me, other = await _orchestrator(services), await _orchestrator(services)
    shared = await location_id(services.db, declared(10.0, 20.0, "DE"))
    mine_only = await location_id(services.db, declared(11.0, 21.0))
    await services.db.execute(
        "INSERT INTO nodes (orchestrator, name, declared_location_id)"
        " VALUES ($1, 'a', $3), ($1, 'b', $4), ($2, 'c', $3)",
        me,
        other,
        shared,
        mine_only,
    )
    erased = await erase_orchestrator_data(services.db, me)
    assert erased.nodes == 2 and erased.tokens == 0
    remaining = {r["id"] for r in await services.db.fetch("SELECT id FROM locations")}
    assert shared in remaining and mine_only not in remaining


async def test_a_place_history_points_at_stays(services: Services) -> None:
    me, other = await _orchestrator(services), await _orchestrator(services)
    place = await location_id(services.db, declared(12.0, 22.0))
    await services.db.execute(
        "INSERT INTO nodes (orchestrator, name, declared_location_id) VALUES ($1, 'a', $2)",
        me,
        place,
    )
    their_node = await services.db.fetchval(
        "INSERT INTO nodes (orchestrator, name) VALUES ($1, 'b') RETURNING id", other
    )
    await services.db.execute(
        "INSERT INTO node_minutes (node, minute, location_id)"
        " VALUES ($1, date_trunc('minute', now()), $2)",
        their_node,
        place,
    )
    assert (await erase_orchestrator_data(services.db, me)).nodes == 1
    assert await services.db.fetchval("SELECT count(*) FROM locations WHERE id = $1", place) == 1
    assert await services.db.fetchval("SELECT count(*) FROM node_minutes") == 1


async def test_tokens_batches_and_their_queue_entries_go(services: Services) -> None:
    me, other = await _orchestrator(services), await _orchestrator(services)
    for address in (me, other):
        await tokens.create_token(services.db, address, "t", ["ingest"])
        batch = await services.db.fetchval(
            "INSERT INTO ingest_batches (orchestrator, digest, samples)"
            " VALUES ($1, $2, 1) RETURNING id",
            address,
            address.encode(),
        )
        await services.db.execute("INSERT INTO rollup_queue (batch) VALUES ($1)", batch)
    erased = await erase_orchestrator_data(services.db, me)
    assert erased.tokens == 1
    batches = await services.db.fetch("SELECT orchestrator FROM ingest_batches")
    assert [r["orchestrator"] for r in batches] == [other]
    assert await services.db.fetchval("SELECT count(*) FROM rollup_queue") == 1
    assert len(await tokens.list_tokens(services.db, other)) == 1
    assert await erase_orchestrator_data(services.db, me) == erased.__class__(0, 0)
