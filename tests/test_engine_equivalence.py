"""The engine's speed-ups change nothing a user sees.

The evaluator cuts each variable down to what the rules read, runs rules in groups as one
CEL call and remembers results per distinct input (see `ProgramSet`). The reference here is
the straightforward path: every expression on its own, on whole values, nothing cut or
remembered. Both scan the demo and a generated cluster; the results must be identical, field
by field.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from kspm_tui.engine import evaluate as engine
from kspm_tui.engine.cel import CelError, Program, evaluate, new_context
from kspm_tui.engine.shapes import Items, projector, reads, without_nulls
from kspm_tui.model import ScanResult, Scope
from kspm_tui.scan import ScanSettings, load_ruleset, scan
from kspm_tui.sources import Collected
from kspm_tui.sources.demo import read_demo
from kspm_tui.sources.files import read_paths

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import generate  # noqa: E402


class ReferencePrograms:
    """The reference ProgramSet: each program on its own, on whole values, every time."""

    def __init__(self, programs: list[Program], reads: dict[str, Any], constants: dict[str, Any]) -> None:
        self.programs = programs
        self.context = new_context()
        self.context.update(constants)

    def run(self, values: dict[str, Any]) -> list[Any]:
        self.context.update({name: without_nulls(value) for name, value in values.items()})
        results: list[Any] = []
        for program in self.programs:
            try:
                results.append(evaluate(program, self.context))
            except CelError as exc:
                results.append(exc)
        return results


def _reference_scan(collected: Collected, monkeypatch: pytest.MonkeyPatch) -> ScanResult:
    with monkeypatch.context() as patch:
        patch.setattr(engine, "ProgramSet", ReferencePrograms)
        return scan(collected, ScanSettings(), load_ruleset(ScanSettings()))


def _comparable(result: ScanResult) -> dict[str, Any]:
    return result.model_dump(mode="json", exclude={"started", "duration_s"})


def _assert_same(collected: Collected, monkeypatch: pytest.MonkeyPatch) -> ScanResult:
    fast = scan(collected, ScanSettings(), load_ruleset(ScanSettings()))
    reference = _reference_scan(collected, monkeypatch)
    assert [f.fingerprint for f in fast.findings] == [f.fingerprint for f in reference.findings]
    for mine, theirs in zip(fast.findings, reference.findings, strict=True):
        assert mine.model_dump(mode="json") == theirs.model_dump(mode="json")
    assert _comparable(fast) == _comparable(reference)
    return fast


def _scopes_with_findings(result: ScanResult) -> set[Scope]:
    scope_of = {r.id: r.rule.scope for r in load_ruleset(ScanSettings()).rules}
    return {scope_of[f.rule] for f in result.findings if f.rule in scope_of}


def test_demo_scan_matches_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _assert_same(read_demo(), monkeypatch)
    assert {Scope.container, Scope.pod, Scope.object, Scope.namespace} <= _scopes_with_findings(result)
    assert any(f.remediation and f.remediation.kubectl for f in result.findings)


def test_generated_cluster_scan_matches_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files, counts = generate.build(200)
    for name, objects in files.items():
        (tmp_path / f"{name}.yaml").write_text(generate.dump_list(objects), encoding="utf-8")
    collected = read_paths([str(tmp_path)])
    assert len(collected.objects) == counts["objects"]
    result = _assert_same(collected, monkeypatch)
    assert len(result.findings) > 1000
    assert {Scope.container, Scope.pod, Scope.object, Scope.namespace} <= _scopes_with_findings(result)
    assert any(ev.value is not None for f in result.findings for ev in f.evidence)


ALL_NAMES = Items({"name": None})


@pytest.mark.parametrize(("sources", "expected"), [
    (["has(podSpec.securityContext) && podSpec.securityContext.runAsNonRoot"],
     {"securityContext": {"runAsNonRoot": None}}),
    (["podSpec.hostNetwork || podSpec . hostPID", "'podSpec.volumes' == 'x'"], {"hostNetwork": None, "hostPID": None}),
    (["['hostPID'].exists(k, k in podSpec && podSpec[k])"], None),  # indexed
    (["podSpec.?volumes.orValue([])"], None),  # optional select
    (["size(podSpec.volumes)"], {"volumes": None}),  # passed to a function
    (["object.podSpec.volumes", "container.name"], {}),  # another variable's field
    (["podSpec.volumes.exists(v, has(v.hostPath))"], {"volumes": Items({"hostPath": {}})}),  # presence only
    (["podSpec.containers.filter(c, c.image == '').map(c, c.name)"],
     {"containers": Items({"image": None, "name": None})}),
    (["podSpec.containers.all(i, c, c.image == '')"], {"containers": None}),  # two-variable macro
    (["podSpecPatch(podSpec, {}, [])"],
     {"initContainers": ALL_NAMES, "containers": ALL_NAMES, "ephemeralContainers": ALL_NAMES}),
    (["deletePatch(podSpec, ['securityContext.sysctls', 'hostPID'])"],
     {"securityContext": {"sysctls": None}, "hostPID": None}),
    (["deletePatch(podSpec, ['hostPID'] + extra)"], None),  # paths not known from the text
])
def test_read_shapes(sources: list[str], expected: Any) -> None:
    assert reads(sources, ["podSpec"]) == ({} if expected == {} else {"podSpec": expected})


def test_projection_keeps_only_the_shape_and_leaves_the_input_alone() -> None:
    spec = {"hostPID": True, "volumes": [{"name": "v", "hostPath": {"path": "/"}}, "odd"],
            "securityContext": {"runAsUser": 0, "fsGroup": 2}, "containers": [{"name": "c", "image": "x"}]}
    before = repr(spec)
    shape = reads(["podSpec.volumes.exists(v, v.hostPath.path == '/') && podSpec.securityContext.runAsUser == 0"],
                  ["podSpec"])["podSpec"]
    assert projector(shape)(spec) == {"volumes": [{"hostPath": {"path": "/"}}, "odd"],
                                    "securityContext": {"runAsUser": 0}}
    assert repr(spec) == before


def test_built_findings_are_valid_models() -> None:
    """Findings built without validation equal what pydantic builds from their own data."""
    from kspm_tui.model import Finding

    result = scan(read_demo(), ScanSettings(), load_ruleset(ScanSettings()))
    built = [f for f in result.findings if f.status == "fail"]
    assert built
    for finding in built:
        assert list(vars(finding)) == list(Finding.model_fields)
        assert Finding.model_validate(finding.model_dump()) == finding
        assert finding.model_fields_set == set(Finding.model_fields)
        for evidence in finding.evidence:
            assert evidence.model_fields_set == {"path", "value"}


def test_a_scan_leaves_no_cyclic_garbage() -> None:
    """Scans run with the cyclic collector paused and freeze what survives (kspm_tui/perf.py),
    so anything a scan leaves in a reference cycle would never be freed: every scan would
    leak it (the explorer rescans on each context switch). Reference counting must free it all."""
    import gc

    collected = read_demo()
    scan(collected, ScanSettings(), load_ruleset(ScanSettings()))  # warm-up: one-time import garbage
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        result = scan(collected, ScanSettings(), load_ruleset(ScanSettings()))
        assert result.findings
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()


def test_remembered_results_never_mix_up_inputs() -> None:
    """Equal cut inputs share results; inputs JSON would blur (NaN, infinity and a null list
    item all print as `null`; a timestamp as its text) are evaluated every time."""
    from datetime import datetime

    from kspm_tui.engine.cel import ProgramSet, compile_expression

    check = compile_expression("has(object.spec.weight) && object.spec.weight > 1.0")
    programs = ProgramSet([check], reads(["object.spec.weight"], ["object"]), {})

    def run(weight: object) -> object:
        return programs.run({"object": {"metadata": {"name": "x"}, "spec": {"weight": weight}}})[0]

    assert run(2.0) is True and run(0.5) is False and run(2.0) is True
    assert run(float("inf")) is True and run(float("nan")) is not True  # both print as null
    listed = ProgramSet([compile_expression("object.items.all(i, i == null)")], reads(["object.items"], ["object"]), {})
    assert listed.run({"object": {"items": [None]}})[0] is True
    assert listed.run({"object": {"items": [float("nan")]}})[0] is not True
    assert run(datetime(2026, 1, 1)) is not True  # a timestamp is not a number: no cached 2.0
