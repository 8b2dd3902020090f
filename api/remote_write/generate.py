"""Regenerate the `*_pb2.py` / `*_pb2.pyi` modules from the `.proto` files.

    uv run python -m api.remote_write.generate

Needs the dev dependency `grpcio-tools` (it bundles `protoc`); the service itself
only imports the generated modules. `tests/api/remote_write/test_generate.py`
fails when the committed modules drift from the `.proto` files.
"""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# Protos are compiled relative to the project root so their descriptor names
# ("api/remote_write/remote_v1.proto") cannot clash with another library's
# copy of the Prometheus protos in the process-wide descriptor pool.
PROJECT_ROOT = PACKAGE_DIR.parent.parent
PROTOS = ("remote_v1.proto", "remote_v2.proto", "views.proto")


def generate(out_root: Path = PROJECT_ROOT) -> list[Path]:
    """Compile the protos into `out_root/api/remote_write/`; return the files written."""
    from grpc_tools import protoc  # dev-only dependency, so imported on use

    args = [
        "grpc_tools.protoc",
        f"--proto_path={PROJECT_ROOT}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        *(str(PACKAGE_DIR / proto) for proto in PROTOS),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed: {' '.join(args)}")
    out_dir = out_root / PACKAGE_DIR.relative_to(PROJECT_ROOT)
    return [
        out_dir / f"{Path(proto).stem}_pb2{suffix}"
        for proto in PROTOS
        for suffix in (".py", ".pyi")
    ]


if __name__ == "__main__":
    for path in generate():
        print(path.relative_to(PROJECT_ROOT), file=sys.stderr)
