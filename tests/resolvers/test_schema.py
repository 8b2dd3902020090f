import logging
import subprocess
import sys
from pathlib import Path

import pytest

from resolvers.schema import schema, sdl

ROOT = Path(__file__).resolve().parents[2]


def test_schema_graphql_is_the_generated_sdl() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == sdl(), (
        "schema.graphql is stale: run `uv run lpmetrics schema > schema.graphql`"
    )


def test_cli_prints_the_sdl() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "schema"], capture_output=True, text=True, check=True
    )
    assert result.stdout == sdl()


async def test_refusals_are_not_logged_but_faults_are(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="strawberry.execution"):
        refused = await schema.execute("{ nope }")
        assert refused.errors and not caplog.records
        # No context at all: the resolver fails, an internal error worth a traceback.
        failed = await schema.execute("{ network { currentStreams } }", context_value=None)
    assert failed.errors
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
