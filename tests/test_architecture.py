"""The layout is what docs/architecture.md says: every path it names exists, and the
capability packages import each other one way only."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "architecture.md"
TOP = ("api/", "auth/", "resolvers/", "migrations/", "tests/", "docs/", ".ci/")
# The composition root: it may import every package, and none may import it.
COMPOSITION_ROOT = {"api.http", "api.cli"}

_CODE = re.compile(r"`([^`\s]+)`")


def _named_paths(text: str) -> Iterator[str]:
    """Paths the page names: from the top level anywhere, and in a table row relative
    to that row's package (``| Ingest | `api/ingest/` | ... `endpoint.py` ... |``)."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        package = None
        if line.startswith("|") and len(cells) > 3:
            found = _CODE.findall(cells[2])
            package = found[0] if found and found[0].endswith("/") else None
        for token in _CODE.findall(line):
            if token.startswith(TOP):
                yield token
            elif package and (token.endswith((".py", "/"))) and "/" not in token.rstrip("/"):
                yield package + token


def test_every_path_the_architecture_page_names_exists() -> None:
    named = list(_named_paths(PAGE.read_text(encoding="utf-8")))
    assert len(named) > 30, named
    missing = [p for p in named if not (ROOT / p).exists()]
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_every_capability_package_is_in_the_table() -> None:
    text = PAGE.read_text(encoding="utf-8")
    packages = [f"api/{p.name}/" for p in (ROOT / "api").iterdir() if (p / "__init__.py").exists()]
    absent = [p for p in [*packages, "auth/", "resolvers/"] if f"| `{p}` |" not in text]
    assert not absent, f"packages missing from docs/architecture.md's table: {absent}"


def _package(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "api":
        return ".".join(parts[:2]) if len(parts) > 1 else None
    return parts[0] if parts[0] in ("auth", "resolvers") else None


def _imports() -> dict[str, dict[str, str]]:
    """package -> {imported package: one module that imports it}."""
    graph: dict[str, dict[str, str]] = {}
    for top in ("api", "auth", "resolvers"):
        for path in (ROOT / top).rglob("*.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            source = _package(module.removesuffix(".__init__"))
            if source is None:
                continue
            edges = graph.setdefault(source, {})
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [f"{node.module}.{a.name}" for a in node.names]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                else:
                    continue
                for name in names:
                    target = _package(name)
                    if target is not None and target != source:
                        edges.setdefault(target, module)
    return graph


def test_capability_packages_import_each_other_one_way() -> None:
    graph = _imports()
    cycles = []
    for source, targets in graph.items():
        for target, via in targets.items():
            # A path back from target to source closes a cycle.
            seen, todo = {target}, [target]
            while todo:
                for nxt in graph.get(todo.pop(), {}):
                    if nxt == source:
                        cycles.append(f"{source} -> {target} (in {via})")
                        todo = []
                        break
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
    assert not cycles, f"import cycles between packages: {sorted(cycles)}"


def test_nothing_imports_the_composition_root() -> None:
    graph = _imports()
    wrong = [
        f"{source} imports {target} (in {via})"
        for source, targets in graph.items()
        if source not in COMPOSITION_ROOT
        for target, via in targets.items()
        if target in COMPOSITION_ROOT
    ]
    assert not wrong, wrong
