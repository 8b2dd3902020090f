"""Pieces of the ``serve --demo`` worker; the whole of it runs in
tests/api/cli/test_serve_demo.py."""

import asyncio

from api.core.services import Services
from api.demo.install import install
from api.demo.network import build_network
from api.demo.worker import loopback_url, newest_sample, wait_listening
from api.ingest.partitions import maintain


def test_loopback_url_reaches_the_server_however_it_listens() -> None:
    assert loopback_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert loopback_url("0.0.0.0", 80) == "http://127.0.0.1:80"
    assert loopback_url("::", 8000) == "http://[::1]:8000"
    assert loopback_url("::1", 8000) == "http://[::1]:8000"
    assert loopback_url("localhost", 8000) == "http://localhost:8000"


async def test_wait_listening_returns_once_the_server_answers() -> None:
    # A server that refuses /healthz (503) until told to answer.
    answering = False
    refused = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        status = b"200 OK" if answering else b"503 Service Unavailable"
        writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
        if not answering:
            refused.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        waiting = asyncio.create_task(wait_listening(f"http://127.0.0.1:{port}", poll_seconds=0.01))
        async with asyncio.timeout(30):
            await refused.wait()
        assert not waiting.done()
        answering = True
        async with asyncio.timeout(30):
            await waiting


async def test_newest_sample_tells_where_a_restart_resumes(services: Services) -> None:
    network = build_network(4, seed=9)
    await install(services, network)
    addresses = [o.address.lower() for o in network.reporting]
    assert await newest_sample(services, addresses) is None
    node = await services.db.fetchval("SELECT id FROM nodes LIMIT 1")
    async with services.db.acquire() as conn:  # the day's partition, without a server
        await maintain(conn, services.settings.raw_retention_days)
    minute = await services.db.fetchval(
        "INSERT INTO samples (node, minute, batch, gauges, series, offsets, vals)"
        " VALUES ($1, date_trunc('minute', now()) - interval '3 minutes', 1, true,"
        " '{1}', '{0}', '{1}') RETURNING minute",
        node,
    )
    assert await newest_sample(services, addresses) == minute.timestamp()
    assert await newest_sample(services, ["0x" + "0" * 40]) is None
