import itertools
from datetime import UTC, datetime, timedelta

from api.stats.windows import HOUR, MINUTE, WINDOWS, Window, slices, split

TICK = datetime(2024, 5, 1, 12, 37, tzinfo=UTC)


def test_slices_tile_the_windows() -> None:
    parts = slices(TICK)
    assert parts[0].first == TICK - 59 * MINUTE and parts[0].last == TICK
    for newer, older in itertools.pairwise(parts):
        assert older.last == newer.first - MINUTE
    for window in WINDOWS:
        covered = sum((parts[i].last - parts[i].first) // MINUTE + 1 for i in window.slices)
        assert covered == window.minutes
        assert parts[window.slices[-1]].first == window.start(TICK)
    assert Window.LAST_30_DAYS.minutes == 43200


def test_split_reads_clean_whole_hours_from_the_hourly_tables() -> None:
    first, last = datetime(2024, 5, 1, 9, 20, tzinfo=UTC), datetime(2024, 5, 1, 12, 37, tzinfo=UTC)
    dirty = frozenset({datetime(2024, 5, 1, 10, tzinfo=UTC)})
    cut = split(first, last, dirty)
    assert cut.hours == (datetime(2024, 5, 1, 11, tzinfo=UTC),)
    assert cut.minute_ranges == (
        (first, datetime(2024, 5, 1, 10, 59, tzinfo=UTC)),  # the edge and the dirty hour
        (datetime(2024, 5, 1, 12, tzinfo=UTC), last),  # the hour not complete
    )
    # Every minute is read exactly once.
    minutes = set()
    for hour in cut.hours:
        minutes |= {hour + i * MINUTE for i in range(60)}
    for a, b in cut.minute_ranges:
        minutes |= {a + i * MINUTE for i in range((b - a) // MINUTE + 1)}
    assert len(minutes) == (last - first) // MINUTE + 1


def test_split_of_whole_hours() -> None:
    first = datetime(2024, 5, 1, 9, tzinfo=UTC)
    cut = split(first, first + 3 * HOUR - MINUTE, frozenset())
    assert cut.hours == (first, first + HOUR, first + 2 * HOUR)
    assert cut.minute_ranges == ()
    assert split(first, first - timedelta(minutes=1), frozenset()).hours == ()
