"""Headless Chromium from the distribution's packages (`apt-get install chromium`; `.ci/run`
installs it), driven by Playwright for Python without Playwright's own browser download.

Without it a developer's run skips the browser tests; in CI (the `CI` variable set) they run
anyway and fail, so a missing browser can never pass as green.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
# No sandbox (CI runs as root), nothing fetched in the background, no first-run UI.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="chromium not installed (apt-get install chromium); in CI this fails instead",
)
