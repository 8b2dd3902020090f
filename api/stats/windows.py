"""Time windows, all ending with the newest complete minute (the *tick*).

A window of N minutes anchored at tick T covers the N one-minute buckets
``T - (N-1) min ... T``, both ends included. The four windows are nested, so they are
cut into four disjoint *slices* (the last hour, the rest of the day, the rest of the
week, the rest of the 30 days); a window is the union of the slices up to its own.
Loading slices once serves every window, and lets the disclosure control see what
the difference of two windows would reveal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


class Window(Enum):
    LAST_HOUR = 60
    LAST_DAY = 24 * 60
    LAST_WEEK = 7 * 24 * 60
    LAST_30_DAYS = 30 * 24 * 60

    @property
    def minutes(self) -> int:
        return self.value

    @property
    def slices(self) -> tuple[int, ...]:
        """Indices of the slices this window is made of."""
        return tuple(range(WINDOWS.index(self) + 1))

    def start(self, tick: datetime) -> datetime:
        return tick - (self.minutes - 1) * MINUTE


WINDOWS: tuple[Window, ...] = tuple(Window)


@dataclass(frozen=True, slots=True)
class Slice:
    index: int
    first: datetime  # first minute, included
    last: datetime  # last minute, included


def slices(tick: datetime) -> tuple[Slice, ...]:
    """The disjoint slices of the windows at ``tick``, newest first."""
    result = []
    newer = 0
    for i, window in enumerate(WINDOWS):
        result.append(Slice(i, tick - (window.minutes - 1) * MINUTE, tick - newer * MINUTE))
        newer = window.minutes
    return tuple(result)


def floor_minute(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(second=0, microsecond=0)


def floor_hour(moment: datetime) -> datetime:
    return floor_minute(moment).replace(minute=0)


@dataclass(frozen=True, slots=True)
class Split:
    """A minute range cut into whole hours (read from the hourly tables) and the
    minute ranges around and between them (read from the minute tables)."""

    hours: tuple[datetime, ...]
    minute_ranges: tuple[tuple[datetime, datetime], ...]  # inclusive (first, last)


def split(first: datetime, last: datetime, dirty: frozenset[datetime]) -> Split:
    """Cut ``first ... last`` (inclusive minutes): hours lying wholly inside and not
    ``dirty`` come from the hourly tables, everything else from minutes."""
    hours: list[datetime] = []
    ranges: list[tuple[datetime, datetime]] = []
    if last < first:
        return Split((), ())
    start = floor_hour(first)
    if start < first:
        start += HOUR
    cursor = first  # first minute not yet assigned
    hour = start
    while hour + HOUR - MINUTE <= last:
        if hour not in dirty:
            if cursor < hour:
                ranges.append((cursor, hour - MINUTE))
            hours.append(hour)
            cursor = hour + HOUR
        hour += HOUR
    if cursor <= last:
        ranges.append((cursor, last))
    return Split(tuple(hours), tuple(ranges))
