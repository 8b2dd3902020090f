"""The verification checks at their edges (the scenario in tests/resolvers/test_chain.py
runs them end to end)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from api.chain.onchain import Redeemed
from api.chain.verification import (
    MIN_REDEMPTIONS,
    MIN_TICKETS,
    Status,
    check_expected,
    check_redeemed,
    verdict,
)

T0, T1 = datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC)


def test_redeemed_value_within_two_percent() -> None:
    chain = Redeemed(10.0, 100)
    assert check_redeemed(10.19, chain).status is Status.CONSISTENT
    assert check_redeemed(9.81, chain).status is Status.CONSISTENT
    assert check_redeemed(10.21, chain).status is Status.INCONSISTENT
    # Not reported (a separate redeemer) or too few on chain: not checked.
    assert check_redeemed(0, chain) is None
    assert check_redeemed(1.0, Redeemed(1.0, MIN_REDEMPTIONS - 1)) is None
    # Reported redemptions the chain never saw.
    assert check_redeemed(5.0, Redeemed(0.0, MIN_REDEMPTIONS)).relative_difference == math.inf


@pytest.mark.parametrize(
    ("n", "ok", "bad"), [(16, 1.74, 1.76), (100, 1.29, 1.31), (400, 1.14, 1.16)]
)
def test_expected_value_tolerance_narrows_as_one_over_sqrt_n(n: int, ok: float, bad: float) -> None:
    chain = Redeemed(1.0, n)
    assert check_expected(ok, chain).status is Status.CONSISTENT
    assert check_expected(bad, chain).status is Status.INCONSISTENT
    assert check_expected(1.0, chain).tolerance == pytest.approx(3 / math.sqrt(n))
    assert check_expected(1.0, Redeemed(1.0, MIN_TICKETS - 1)) is None


def test_verdict() -> None:
    good = check_redeemed(1.0, Redeemed(1.0, 10))
    bad = check_expected(5.0, Redeemed(1.0, 100))
    assert verdict("0x", T0, T1, [good, None]).status is Status.CONSISTENT
    assert verdict("0x", T0, T1, [good, bad]).status is Status.INCONSISTENT
    thin = verdict("0x", T0, T1, [None, None])
    assert thin.status is Status.INSUFFICIENT_DATA and "too few" in thin.reason
