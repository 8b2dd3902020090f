"""A TCP proxy tests can cut and restore, to take PostgreSQL or Redis "down" for one
app without touching the servers other tests (or other people) use."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit, urlunsplit


class Proxy:
    """Listens on a loopback TCP port and forwards to ``target``: ``(host, port)`` or
    the path of a Unix socket."""

    def __init__(self, target: tuple[str, int] | str) -> None:
        self.target = target
        self.up = True
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections and drop the open ones, as a crashed server would."""
        self.up = False
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self.up = True

    async def close(self) -> None:
        await self.cut()
        if self._server:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._pipes):
            task.cancel()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.transport.abort()
            return
        try:
            if isinstance(self.target, str):
                up_reader, up_writer = await asyncio.open_unix_connection(self.target)
            else:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    @staticmethod
    async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            dst.transport.abort()


def _target(url: str) -> tuple[str, int] | str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    socket_dir = parse_qs(parts.query).get("host", [None])[0]
    if socket_dir and socket_dir.startswith("/"):
        return f"{socket_dir}/.s.PGSQL.{parts.port or 5432}"
    return (
        parts.hostname or "127.0.0.1",
        parts.port or (6379 if "redis" in parts.scheme else 5432),
    )


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    scheme = "redis" if parts.scheme == "unix" else parts.scheme
    user = f"{parts.username}@" if parts.username else ""
    path = "" if parts.scheme == "unix" else parts.path
    query = "&".join(
        f"{k}={v[0]}" for k, v in parse_qs(parts.query).items() if k not in ("host", "db")
    )
    return urlunsplit((scheme, f"{user}127.0.0.1:{port}", path, query, ""))


@contextlib.asynccontextmanager
async def proxied(url: str) -> AsyncIterator[tuple[Proxy, str]]:
    """A proxy in front of the server of a PostgreSQL or Redis ``url``, and the URL that
    reaches the same database through it."""
    proxy = Proxy(_target(url))
    await proxy.start()
    try:
        yield proxy, _through(url, proxy.port)
    finally:
        await proxy.close()
