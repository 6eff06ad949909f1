"""The local strategic merge copies only what a patch touches (a scan validates every fix's
patched object, so deep-copying whole workloads was a quarter of its engine time), and still
never changes the original nor hands out the patch's own maps."""

from __future__ import annotations

import copy

import pytest

from kspm_tui import strategic_merge
from tests.test_tui_strategic_merge import DEPLOYMENT, PATCHES


@pytest.mark.parametrize("patch", PATCHES, ids=range(len(PATCHES)))
def test_neither_the_original_nor_the_patch_changes(patch: dict) -> None:
    original, given = copy.deepcopy(DEPLOYMENT), copy.deepcopy(patch)
    strategic_merge.apply(DEPLOYMENT, patch)
    assert DEPLOYMENT == original
    assert patch == given


def test_untouched_parts_are_shared_and_patched_paths_are_new() -> None:
    patched = strategic_merge.apply(DEPLOYMENT, PATCHES[0])  # nginx's securityContext only
    spec, before = patched["spec"]["template"]["spec"], DEPLOYMENT["spec"]["template"]["spec"]
    assert patched["metadata"] is DEPLOYMENT["metadata"]
    assert spec["volumes"] is before["volumes"]
    assert spec["containers"][1] is before["containers"][1]  # the sidecar: not patched
    assert spec["containers"] is not before["containers"]
    assert spec["containers"][0] is not before["containers"][0]
    assert spec["containers"][0]["env"] is before["containers"][0]["env"]
    assert spec["containers"][0]["securityContext"] == {"privileged": False, "runAsUser": 0}
    assert before["containers"][0]["securityContext"] == {"privileged": True, "runAsUser": 0}


def test_values_taken_from_the_patch_are_copies() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "extra", "image": "busybox:1.36",
                                                            "args": ["sleep", "1"]}]}}}}
    patched = strategic_merge.apply(DEPLOYMENT, patch)
    added = patched["spec"]["template"]["spec"]["containers"][-1]
    assert added == {"name": "extra", "image": "busybox:1.36", "args": ["sleep", "1"]}
    added["args"].append("2")
    assert patch["spec"]["template"]["spec"]["containers"][0]["args"] == ["sleep", "1"]
