"""Every screen at the sizes operators use: 80×24 (a laptop split), 120×30, 200×50, default
theme (the light theme is in test_tui_snapshots.py). Update with `--snapshot-update` after
looking at the SVGs in `tests/__snapshots__/`."""

from __future__ import annotations

import pytest

from tests.test_tui_snapshots import SCREENS, at_repo_root, make_app, settle  # noqa: F401

SIZES = ((80, 24), (120, 30), (200, 50))
MORE_SCREENS = {
    "by-rule": ["colon", *"rule K8S-PRIVILEGED", "enter"],
    "exceptions": ["colon", *"exceptions", "enter"],
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", [*SCREENS, *MORE_SCREENS])
def test_screen_at_size(snap_compare, screen: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    keys = {**SCREENS, **MORE_SCREENS}[screen]
    keys = ["space" if k == " " else k for k in keys]
    assert snap_compare(make_app("kspm-dark"), terminal_size=size, run_before=lambda pilot: settle(pilot, keys))
