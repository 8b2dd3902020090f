"""Progress of long CLI work on a terminal (``registry sync``, ``demo-load --backfill``).

Library code reports through a plain callback, ``report(step, done, total)``; this
module draws it with ``tqdm`` on stderr when stderr is a terminal, and draws nothing
otherwise (cron, pipes, logs stay clean)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any


class TerminalProgress:
    """One bar per step, replaced when the step changes."""

    def __init__(self, stream: IO[str] | None = None, *, enabled: bool | None = None) -> None:
        self._stream = stream or sys.stderr
        self._enabled = self._stream.isatty() if enabled is None else enabled
        self._bar: Any = None
        self._step: str | None = None

    def __call__(self, step: str, done: int, total: int | None = None) -> None:
        if not self._enabled:
            return
        if step != self._step:
            self.close()
            from tqdm import tqdm

            self._step = step
            self._bar = tqdm(
                desc=step, total=total, file=self._stream, dynamic_ncols=True, leave=True
            )
        bar = self._bar
        if total is not None and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)
        if total is not None and done >= total:
            self.close()  # what follows (log lines, the summary) goes below a full bar

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar = self._step = None


@contextmanager
def terminal_progress() -> Iterator[TerminalProgress]:
    progress = TerminalProgress()
    try:
        yield progress
    finally:
        progress.close()
