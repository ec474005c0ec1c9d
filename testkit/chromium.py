"""Debian's headless Chromium, to read a page as a browser renders it (the DOM it built, its pixels).

Each call gets its own profile directory: a second Chromium on the same profile would hand its work
to the first one and exit, and CI runs tests side by side.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

WINDOW = "1400,2400"


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed: bash scripts/bootstrap.sh installs it (apt-get install -y chromium)")
    return found


def _run(page: Path, *mode: str, window: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="opsuite-chromium-") as profile:
        done = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                               f"--user-data-dir={profile}", f"--window-size={window}", *mode,
                               page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"chromium exited {done.returncode}: {done.stderr[-2000:]}"
    return done


def dump_dom(page: Path, window: str = WINDOW) -> str:
    """The DOM Chromium built from the page, after its scripts ran, serialised."""
    return _run(page, "--dump-dom", window=window).stdout


def screenshot(page: Path, out: Path, window: str = WINDOW) -> Path:
    """The page's pixels as Chromium draws them in a window of that size, as PNG."""
    _run(page, f"--screenshot={out.resolve()}", window=window)
    assert out.stat().st_size > 0, f"chromium wrote no screenshot to {out}"
    return out
