import subprocess
import sys
from pathlib import Path

from resolvers.schema import sdl

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
