"""Refresh the vendored browser files from the npm registry.

    uv run python -m api.assets.vendor          # download, verify, extract, record
    uv run python -m api.assets.vendor --check  # offline: committed files match the manifest

For every package in ``manifest.json``: ask the registry for the version's
``dist.tarball`` and ``dist.integrity``; refuse when the manifest already pins a
different integrity (a re-published or tampered tarball: pass ``--repin`` only after
finding out why); download the tarball and check its sha512 against the integrity;
extract the listed files to ``vendor/<package>/<version>/`` and record each file's
sha384 (the browser's subresource integrity) in the manifest. Directories of packages
or versions no longer listed are removed."""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import shutil
import sys
import tarfile
from pathlib import PurePosixPath
from urllib.parse import quote

import httpx

from api.assets import manifest as _paths
from api.assets.manifest import (
    MANIFEST,
    Manifest,
    Package,
    read_manifest,
    write_manifest,
)


class VendorError(Exception):
    """A package cannot be vendored as pinned; the message says which and why."""


def sri(data: bytes, algorithm: str = "sha384") -> str:
    digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm}-{base64.b64encode(digest).decode()}"


def _registry_dist(client: httpx.Client, registry: str, package: Package) -> dict[str, str]:
    url = f"{registry.rstrip('/')}/{quote(package.name, safe='@')}/{quote(package.version)}"
    response = client.get(url)
    if response.status_code == 404:
        raise VendorError(f"{package.name}@{package.version} is not in the registry")
    response.raise_for_status()
    dist = response.json()["dist"]
    if not str(dist.get("integrity", "")).startswith("sha512-"):
        raise VendorError(f"{package.name}@{package.version}: the registry gives no sha512")
    return dist


def _extract(tarball: bytes, package: Package) -> dict[str, bytes]:
    """The listed files of ``package`` from its tarball (the root folder is stripped:
    usually ``package/``)."""
    wanted = set(package.files)
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member in archive.getmembers():
            parts = PurePosixPath(member.name).parts
            inner = "/".join(parts[1:])
            if member.isfile() and inner in wanted:
                extracted = archive.extractfile(member)
                assert extracted is not None
                found[inner] = extracted.read()
    missing = wanted - found.keys()
    if missing:
        raise VendorError(f"{package.name}@{package.version} has no {sorted(missing)}")
    return found


def _check_path(file: str) -> None:
    path = PurePosixPath(file)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise VendorError(f"{file!r} is not a plain path inside the package")


def refresh(
    manifest: Manifest, *, repin: bool = False, transport: httpx.BaseTransport | None = None
) -> None:
    with httpx.Client(timeout=60, follow_redirects=True, transport=transport) as client:
        for package in manifest.packages:
            for file in package.files:
                _check_path(file)
            dist = _registry_dist(client, manifest.registry, package)
            if package.integrity and package.integrity != dist["integrity"] and not repin:
                raise VendorError(
                    f"{package.name}@{package.version}: the registry's integrity"
                    f" {dist['integrity']} differs from the pinned {package.integrity}"
                )
            response = client.get(dist["tarball"])
            response.raise_for_status()
            if sri(response.content, "sha512") != dist["integrity"]:
                raise VendorError(f"{package.name}@{package.version}: tarball fails its sha512")
            files = _extract(response.content, package)
            shutil.rmtree(package.directory, ignore_errors=True)
            for name, data in files.items():
                target = package.path(name)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            package.integrity = dist["integrity"]
            package.sri = {name: sri(data) for name, data in sorted(files.items())}
            print(f"{package.name}@{package.version}: {len(files)} files, {package.integrity}")
    _remove_unlisted(manifest)


def _remove_unlisted(manifest: Manifest) -> None:
    """Delete files under vendor/ that no listed package owns, then empty folders."""
    vendor_dir = _paths.VENDOR_DIR
    keep = {p.path(f) for p in manifest.packages for f in p.files}
    for path in sorted(vendor_dir.rglob("*"), reverse=True):  # children before parents
        if path.is_file() and path not in keep:
            path.unlink()
            print(f"removed {path.relative_to(vendor_dir)}")
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def check(manifest: Manifest) -> list[str]:
    """What is wrong with the committed files (empty: they are exactly as pinned)."""
    problems = []
    for package in manifest.packages:
        if not package.integrity:
            problems.append(f"{package.name}@{package.version}: no integrity pinned")
        for file in package.files:
            path = package.path(file)
            if not path.is_file():
                problems.append(f"{package.name}@{package.version}: {file} missing")
            elif sri(path.read_bytes()) != package.sri.get(file):
                problems.append(f"{package.name}@{package.version}: {file} differs from its sri")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.assets.vendor", description=__doc__)
    parser.add_argument("--check", action="store_true", help="verify offline, change nothing")
    parser.add_argument(
        "--repin", action="store_true", help="accept a registry integrity that differs"
    )
    args = parser.parse_args(argv)
    manifest = read_manifest()
    if args.check:
        problems = check(manifest)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    try:
        refresh(manifest, repin=args.repin)
    except (VendorError, httpx.HTTPError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write_manifest(manifest)
    print(f"wrote {MANIFEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
