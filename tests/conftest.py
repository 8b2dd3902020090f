"""The fixtures of every test, as plugins (tests/support/)."""

pytest_plugins = [
    "tests.support.services",
    "tests.support.stats_fixtures",
    "tests.support.ingest",
]
