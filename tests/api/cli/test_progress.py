"""Progress of long CLI work: drawn on a terminal, silent otherwise; the registry
reports its steps."""

from __future__ import annotations

import io

from api.cli.progress import TerminalProgress
from api.core.services import Services
from api.registry.subgraph import apply, fetch_subgraph
from tests.api.registry.test_subgraph import subgraph_app, transcoder
from tests.support.services import serving


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bars_on_a_terminal_only() -> None:
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = TerminalProgress(stream)
        progress("fetching the subgraph", 1000)
        progress("fetching the subgraph", 2500)
        for done in (1, 2, 3):
            progress("locating service URIs", done, 3)
        progress.close()
    assert pipe.getvalue() == ""
    drawn = terminal.getvalue()
    assert "fetching the subgraph: 2500" in drawn
    assert "locating service URIs: 100%" in drawn and "3/3" in drawn


async def test_registry_sync_reports_pages_and_locating(services: Services) -> None:
    items = [
        transcoder(f"0x{i:040x}", f"https://192.0.2.{i % 250 + 1}:8935") for i in range(1, 1201)
    ]
    reports: list[tuple[str, int, int | None]] = []

    def progress(step: str, done: int, total: int | None) -> None:
        reports.append((step, done, total))

    async with serving(subgraph_app(items, [])) as url:
        transcoders = await fetch_subgraph(url, progress=progress)
    assert reports == [("fetching the subgraph", 1000, None), ("fetching the subgraph", 1200, None)]
    reports.clear()
    await apply(services.db, transcoders, services.geolocator, progress)
    assert [r[1] for r in reports] == list(range(1, 1201))
    assert {(r[0], r[2]) for r in reports} == {("locating service URIs", 1200)}
