"""Which background workers a process runs (``LPM_BACKGROUND_WORKERS``); that a process
with them off rolls nothing up while another leads is tested across real processes in
tests/e2e/test_live_processes.py."""

import pytest

from api.chain.sync import chain_worker
from api.convergence.calibrate import convergence_worker
from api.core.settings import ConfigError, load_settings
from api.ingest.partitions import partitions_worker
from api.rollup.hours import refresh_hours
from api.rollup.minutes import rollup_worker
from api.rollup.workers import default_workers
from api.stats.ticks import follow_rollups


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("LPM_"):
            monkeypatch.delenv(name)


def test_every_worker_runs_by_default() -> None:
    assert default_workers(load_settings()) == [
        partitions_worker,
        rollup_worker,
        follow_rollups,
        refresh_hours,
        chain_worker,
        convergence_worker,
    ]


@pytest.mark.parametrize("value", ["0", "false"])
def test_off_leaves_following_the_ticks_only(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LPM_BACKGROUND_WORKERS", value)
    assert default_workers(load_settings()) == [follow_rollups]


def test_a_count_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    # Not a number of processes (uvicorn's --workers): on or off.
    monkeypatch.setenv("LPM_BACKGROUND_WORKERS", "4")
    with pytest.raises(ConfigError) as excinfo:
        load_settings()
    assert str(excinfo.value).startswith("LPM_BACKGROUND_WORKERS: Input should be a valid boolean")
