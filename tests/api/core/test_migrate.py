import asyncio
from pathlib import Path

import asyncpg
import pytest

from api.core.migrate import MIGRATIONS_DIR, discover, migrate
from tests.support.services import RUN_ID, _with_database


@pytest.fixture
async def scratch_url(server_urls: tuple[str, str]):
    """A database of our own, emptier than the shared test one."""
    admin_url, _ = server_urls
    name = f"lpm_test_{RUN_ID}_migrate"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(admin_url, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def test_discover_orders_by_number() -> None:
    found = discover()
    assert [m.version for m in found] == sorted(m.version for m in found)
    assert found[0].name == "0001_core.sql"
    assert all(p.name in {m.name for m in found} for p in MIGRATIONS_DIR.glob("*.sql"))


def test_discover_rejects_bad_names(tmp_path: Path) -> None:
    (tmp_path / "1_core.sql").write_text("SELECT 1")
    with pytest.raises(ValueError, match=r"must look like 0001_name\.sql"):
        discover(tmp_path)


async def test_idempotent(scratch_url: str) -> None:
    conn = await asyncpg.connect(scratch_url)
    try:
        applied = await migrate(conn)
        assert applied == [m.name for m in discover()]
        assert await migrate(conn) == []
        rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == [m.version for m in discover()]
    finally:
        await conn.close()


async def test_concurrent_processes_do_not_race(scratch_url: str) -> None:
    conns = [await asyncpg.connect(scratch_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        # Exactly one connection applied everything; the others found it done.
        assert sorted(len(r) for r in results) == [0, 0, 0, len(discover())]
        count = await conns[0].fetchval("SELECT count(*) FROM schema_migrations")
        assert count == len(discover())
    finally:
        for c in conns:
            await c.close()


async def test_failed_migration_rolls_back(scratch_url: str, tmp_path: Path) -> None:
    (tmp_path / "0001_good.sql").write_text("CREATE TABLE good (x int);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE half (x int); SELECT * FROM nope;")
    conn = await asyncpg.connect(scratch_url)
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await migrate(conn, tmp_path)
        tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables")}
        assert "good" in tables
        assert "half" not in tables
        assert await conn.fetchval("SELECT max(version) FROM schema_migrations") == 1
        # The lock was released: a fixed file applies.
        (tmp_path / "0002_bad.sql").write_text("CREATE TABLE half (x int);")
        assert await migrate(conn, tmp_path) == ["0002_bad.sql"]
    finally:
        await conn.close()
