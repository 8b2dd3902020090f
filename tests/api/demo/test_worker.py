"""Pieces of the ``serve --demo`` worker; the whole of it runs in
tests/api/cli/test_serve_demo.py."""

from api.core.services import Services
from api.demo.install import install
from api.demo.network import build_network
from api.demo.worker import loopback_url, newest_sample, wait_listening


def test_loopback_url_reaches_the_server_however_it_listens() -> None:
    assert loopback_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert loopback_url("0.0.0.0", 80) == "http://127.0.0.1:80"
    assert loopback_url("::", 8000) == "http://[::1]:8000"
    assert loopback_url("::1", 8000) == "http://[::1]:8000"
    assert loopback_url("localhost", 8000) == "http://localhost:8000"


async def test_wait_listening_returns_once_the_server_answers(base_url: str) -> None:
    await wait_listening(base_url)


async def test_newest_sample_tells_where_a_restart_resumes(services: Services) -> None:
    network = build_network(4, seed=9)
    await install(services, network)
    addresses = [o.address.lower() for o in network.reporting]
    assert await newest_sample(services, addresses) is None
    node = await services.db.fetchval("SELECT id FROM nodes LIMIT 1")
    minute = await services.db.fetchval(
        "INSERT INTO samples (node, minute, batch, gauges, series, offsets, vals)"
        " VALUES ($1, date_trunc('minute', now()) - interval '3 minutes', 1, true,"
        " '{1}', '{0}', '{1}') RETURNING minute",
        node,
    )
    assert await newest_sample(services, addresses) == minute.timestamp()
    assert await newest_sample(services, ["0x" + "0" * 40]) is None
