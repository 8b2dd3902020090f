"""What the browser tests (tests/browser/) need from the machine, and running their
Node.js scripts there: headless Debian chromium, node, and the npm packages that
``npm ci`` installs in tests/browser (``.ci/run`` installs all three)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NODE = shutil.which("node")


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if NODE is None:
        return "node is not installed (.ci/run installs Node.js and npm packages)"
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (.ci/run: apt-get install chromium)"
    if not (SCRIPTS / "node_modules" / "puppeteer-core").is_dir():
        return "run 'npm ci' in tests/browser first (.ci/run does)"
    return None


def run_node(*args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """``node *args`` in tests/browser with ``env`` added to this environment (and
    ``CHROMIUM``); its output captured, its exit status left to the caller."""
    return subprocess.run(
        [NODE or "node", *args],
        cwd=SCRIPTS,
        env={**os.environ, "CHROMIUM": CHROMIUM, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
