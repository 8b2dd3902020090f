"""The ingest fixtures (``orch``, ``http``): the rollup tests send through ingest."""

from tests.api.ingest.conftest import http, orch  # noqa: F401
