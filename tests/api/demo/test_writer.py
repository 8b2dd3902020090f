"""Delivery with Prometheus' rules, against a real HTTP server that answers as told."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from api.demo.encode import encode
from api.demo.simulation import labels
from api.demo.writer import (
    MAX_RETRY_AFTER_SECONDS,
    Rejected,
    RemoteWriter,
    Unauthorized,
    retry_after,
)
from tests.support.services import free_port, serving

BODY = encode([(labels(name="livepeer_max_sessions_total", node_id="n"), [(1000, 8.0)])])
TOKEN = "lpm_" + "a" * 43


class Scripted:
    """Answers /api/v1/write with the given (status, headers) in turn; records requests."""

    def __init__(self, *answers: tuple[int, dict[str, str]]) -> None:
        self.answers = list(answers)
        self.requests: list[tuple[dict[str, str], bytes]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        assert request.url.path == "/api/v1/write" and request.method == "POST"
        self.requests.append((dict(request.headers), await request.body()))
        status, headers = self.answers.pop(0)
        await Response(status_code=status, headers=headers, content="no\n")(scope, receive, send)


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[Scripted, str]]:
    app = Scripted()
    async with serving(app) as url:
        yield app, url


async def test_429_and_5xx_are_retried_honouring_retry_after(scripted) -> None:
    app, url = scripted
    app.answers = [(503, {"Retry-After": "0"}), (429, {"Retry-After": "0"}), (204, {})]
    async with RemoteWriter(url, min_backoff=60) as writer:
        await writer.send(TOKEN, BODY, 1)
        assert (writer.stats.requests, writer.stats.retries, writer.stats.samples) == (1, 2, 1)
    assert len(app.requests) == 3
    for headers, body in app.requests:
        assert body == BODY
        assert headers["authorization"] == f"Bearer {TOKEN}"
        assert headers["content-type"] == "application/x-protobuf"
        assert headers["content-encoding"] == "snappy"
        assert headers["x-prometheus-remote-write-version"] == "0.1.0"


async def test_without_retry_after_it_backs_off(scripted) -> None:
    app, url = scripted
    app.answers = [(500, {}), (502, {}), (204, {})]
    async with RemoteWriter(url, min_backoff=0.01, max_backoff=0.02) as writer:
        await writer.send(TOKEN, BODY, 1)
        assert writer.stats.retries == 2
    assert len(app.requests) == 3


@pytest.mark.parametrize(
    ("status", "error"), [(400, Rejected), (413, Rejected), (401, Unauthorized)]
)
async def test_other_4xx_answers_are_final(scripted, status: int, error: type) -> None:
    app, url = scripted
    app.answers = [(status, {})]
    async with RemoteWriter(url, min_backoff=0.01) as writer:
        with pytest.raises(error) as caught:
            await writer.send(TOKEN, BODY, 1)
        assert caught.value.status == status and writer.stats.rejected == 1
    assert len(app.requests) == 1


async def test_an_unreachable_server_is_retried_until_cancelled() -> None:
    async with RemoteWriter(f"http://127.0.0.1:{free_port()}", min_backoff=0.01) as writer:
        task = asyncio.create_task(writer.send(TOKEN, BODY, 1))
        while writer.stats.retries < 3:
            assert not task.done()
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert writer.stats.requests == 0


def test_retry_after_takes_seconds_or_a_date() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert retry_after("7") == 7.0
    assert (
        retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now.timestamp())
        == 30
    )
    assert (
        retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now.timestamp()) == 0
    )
    assert retry_after("999999") == MAX_RETRY_AFTER_SECONDS
    assert retry_after(None) is None and retry_after("soon") is None and retry_after("") is None
