"""``manifest.json``: which npm packages are vendored, at which exact version, which
of their files, and the hashes that pin them.

Format::

    {
      "registry": "https://registry.npmjs.org",
      "packages": [
        {
          "name": "graphiql",               # npm name, scoped names too (@scope/name)
          "version": "3.8.3",               # exact version, never a range
          "integrity": "sha512-...",        # the registry's dist.integrity of the tarball
          "files": ["graphiql.min.js", "graphiql.min.css", "LICENSE"],
          "sri": {"graphiql.min.js": "sha384-...", ...}   # written by api.assets.vendor
        }
      ]
    }

``files`` are paths inside the package (``package/`` in the tarball). To add a package,
append an entry with ``name``, ``version`` and ``files`` (``integrity`` and ``sri``
empty) and run ``uv run python -m api.assets.vendor``: it fills them in."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
MANIFEST = HERE / "manifest.json"
VENDOR_DIR = HERE / "vendor"
URL_PREFIX = "/assets"


@dataclass
class Package:
    name: str
    version: str
    files: list[str]
    integrity: str = ""
    sri: dict[str, str] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        return VENDOR_DIR / self.name / self.version

    def path(self, file: str) -> Path:
        return self.directory / file

    def url(self, file: str) -> str:
        return f"{URL_PREFIX}/{self.name}/{self.version}/{file}"

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "integrity": self.integrity,
            "files": self.files,
            "sri": {f: self.sri[f] for f in self.files if f in self.sri},
        }


@dataclass
class Manifest:
    registry: str
    packages: list[Package]

    def package(self, name: str) -> Package:
        for package in self.packages:
            if package.name == name:
                return package
        raise KeyError(f"npm package {name!r} is not in {MANIFEST.name}")

    def to_json(self) -> dict[str, object]:
        return {"registry": self.registry, "packages": [p.to_json() for p in self.packages]}


def read_manifest(path: Path = MANIFEST) -> Manifest:
    raw = json.loads(path.read_text())
    packages = [
        Package(
            name=p["name"],
            version=p["version"],
            files=list(p["files"]),
            integrity=p.get("integrity", ""),
            sri=dict(p.get("sri", {})),
        )
        for p in raw["packages"]
    ]
    return Manifest(raw.get("registry", "https://registry.npmjs.org"), packages)


def write_manifest(manifest: Manifest, path: Path = MANIFEST) -> None:
    path.write_text(json.dumps(manifest.to_json(), indent=2) + "\n")


@functools.cache
def load_manifest() -> Manifest:
    """The committed manifest (read once per process)."""
    return read_manifest()


def asset_url(package: str, file: str) -> str:
    """Where a page loads ``file`` of vendored npm ``package`` from, e.g.
    ``asset_url("graphiql", "graphiql.min.js")``."""
    found = load_manifest().package(package)
    if file not in found.files:
        raise KeyError(f"{file!r} is not vendored from {package} (see {MANIFEST.name})")
    return found.url(file)


def asset_sri(package: str, file: str) -> str:
    """The ``integrity`` attribute for ``file`` of ``package`` (``sha384-...``)."""
    return load_manifest().package(package).sri[file]
