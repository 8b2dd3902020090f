from pathlib import Path

from api.remote_write.generate import PACKAGE_DIR, PROTOS, generate


def test_generated_modules_match_the_protos(tmp_path: Path) -> None:
    written = generate(out_root=tmp_path)
    assert len(written) == 2 * len(PROTOS)
    for path in written:
        committed = PACKAGE_DIR / path.name
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed.name} is stale: run `uv run python -m api.remote_write.generate`"
        )
