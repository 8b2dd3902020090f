"""api.assets.vendor: the committed files are as pinned; a refresh verifies the
registry's sha512 and takes only the listed files (a local registry stands in for
npmjs.org, which tests must not reach)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import httpx
import pytest

from api.assets import manifest as paths
from api.assets.manifest import Manifest, Package, read_manifest
from api.assets.vendor import VendorError, check, refresh, sri


def test_committed_files_match_the_manifest() -> None:
    manifest = read_manifest()
    assert manifest.packages, "nothing vendored"
    assert check(manifest) == []
    for package in manifest.packages:
        assert package.integrity.startswith("sha512-")
        assert "^" not in package.version and "~" not in package.version


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _registry(tarball: bytes, integrity: str | None = None) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.raw_path == b"/@scope%2Fwidget/1.2.3":
            dist = {
                "tarball": "https://registry.test/widget.tgz",
                "integrity": integrity or sri(tarball, "sha512"),
            }
            return httpx.Response(200, json={"dist": dist})
        if request.url.path == "/widget.tgz":
            return httpx.Response(200, content=tarball)
        return httpx.Response(404)

    return httpx.MockTransport(handle)


@pytest.fixture
def vendor_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(paths, "VENDOR_DIR", tmp_path)
    return tmp_path


def _manifest(integrity: str = "") -> Manifest:
    package = Package("@scope/widget", "1.2.3", ["dist/widget.js"], integrity=integrity)
    return Manifest("https://registry.test", [package])


def test_refresh_extracts_listed_files_and_records_hashes(vendor_dir: Path) -> None:
    tarball = _tarball({"dist/widget.js": b"widget()", "dist/other.js": b"other()"})
    stale = vendor_dir / "old" / "0.1.0" / "old.js"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    manifest = _manifest()
    refresh(manifest, transport=_registry(tarball))
    package = manifest.packages[0]
    target = vendor_dir / "@scope" / "widget" / "1.2.3" / "dist" / "widget.js"
    assert target.read_bytes() == b"widget()"
    assert not (target.parent / "other.js").exists()
    assert not (vendor_dir / "old").exists()
    assert package.integrity == sri(tarball, "sha512")
    assert package.sri == {"dist/widget.js": sri(b"widget()")}
    assert check(manifest) == []
    target.write_bytes(b"tampered()")
    assert check(manifest) == ["@scope/widget@1.2.3: dist/widget.js differs from its sri"]


def test_refresh_refuses_a_tarball_that_fails_its_integrity(vendor_dir: Path) -> None:
    tarball = _tarball({"dist/widget.js": b"widget()"})
    wrong = sri(b"something else", "sha512")
    with pytest.raises(VendorError, match="fails its sha512"):
        refresh(_manifest(), transport=_registry(tarball, integrity=wrong))
    assert not any(vendor_dir.iterdir())


def test_refresh_refuses_a_changed_pin(vendor_dir: Path) -> None:
    tarball = _tarball({"dist/widget.js": b"widget()"})
    pinned = sri(b"what was published before", "sha512")
    with pytest.raises(VendorError, match="differs from the pinned"):
        refresh(_manifest(pinned), transport=_registry(tarball))
    refresh(_manifest(pinned), transport=_registry(tarball), repin=True)


def test_refresh_names_a_missing_file(vendor_dir: Path) -> None:
    tarball = _tarball({"dist/elsewhere.js": b"x"})
    with pytest.raises(VendorError, match=r"has no \['dist/widget.js'\]"):
        refresh(_manifest(), transport=_registry(tarball))
