"""Hypothesis settings for the property and fuzz tests: bounded, so the whole folder
stays within ~45 s a run on a busy machine. ``LPM_FUZZ_EXAMPLES`` scales every
test's examples (e.g. ``LPM_FUZZ_EXAMPLES=20`` for a twenty times longer hunt)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE = float(os.environ.get("LPM_FUZZ_EXAMPLES", "1"))


def examples(count: int) -> int:
    return max(1, int(count * SCALE))


settings.register_profile(
    "lpm-fuzz",
    # No timing: the machine is shared; a slow example is not a failure.
    deadline=None,
    # Nothing written into the checkout; a failure prints how to reproduce it.
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
settings.load_profile("lpm-fuzz")

from tests.support.stats_fixtures import fresh_process_state  # noqa: E402, F401 - per-test ticks
