"""The per-process stand-in for the Redis limits answers as the Redis script does."""

from api.ingest.local_limits import ADMITTED, OVER_RATE, OVER_SERIES, LocalLimits

RATE, BURST, WINDOW = 10.0, 100.0, 3600.0


def admit(limits: LocalLimits, now: float, cost: int, series=(), max_series: int = 3):
    return limits.admit("0xo", now, RATE, BURST, cost, WINDOW, max_series, list(series))


def test_the_bucket_refills_and_a_refusal_takes_nothing() -> None:
    limits = LocalLimits()
    assert admit(limits, 0.0, 80) == (ADMITTED, 0)
    assert admit(limits, 0.0, 30) == (OVER_RATE, 1)  # 20 there, 10 missing: 1 s
    assert admit(limits, 0.0, 20) == (ADMITTED, 0)
    assert admit(limits, 5.0, 60) == (OVER_RATE, 1)  # 50 there after 5 s
    assert admit(limits, 6.0, 60) == (ADMITTED, 0)
    # A request larger than the burst needs a full bucket, not more.
    assert admit(limits, 100.0, 10_000) == (ADMITTED, 0)


def test_active_series_are_capped_and_expire() -> None:
    limits = LocalLimits()
    assert admit(limits, 0.0, 1, [b"a", b"b", b"c"]) == (ADMITTED, 0)
    assert admit(limits, 1.0, 1, [b"a", b"d"]) == (OVER_SERIES, 0)
    assert admit(limits, 1.0, 1, [b"a", b"b"]) == (ADMITTED, 0)
    # An hour later the series not seen since have left the window.
    assert admit(limits, WINDOW + 0.5, 1, [b"d"]) == (ADMITTED, 0)


def test_orchestrators_are_limited_separately() -> None:
    limits = LocalLimits()
    assert limits.admit("0xa", 0.0, RATE, BURST, 100, WINDOW, 3, []) == (ADMITTED, 0)
    assert limits.admit("0xb", 0.0, RATE, BURST, 100, WINDOW, 3, []) == (ADMITTED, 0)
    assert limits.admit("0xa", 0.0, RATE, BURST, 1, WINDOW, 3, [])[0] == OVER_RATE
