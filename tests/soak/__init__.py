"""The soak: the real server under ingest and query load for a while, through faults.

    uv run python -m tests.soak --minutes 30

See ``tests/soak/run.py``. Not collected by pytest; ``.ci/run`` runs a short one."""
