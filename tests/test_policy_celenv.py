"""Only CEL the API server provides goes into an exported policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from kspm_tui.engine.cel import HELPERS
from kspm_tui.model import Rule
from kspm_tui.policy import celenv
from kspm_tui.policy.export import ExportOptions, NotExportable, export_rule

RULE = """\
id: K8S-TEAM-TAGGED
title: Image tag pinned
severity: low
category: Image hygiene
scope: container
check: "imageTag(container.image) != 'latest' && container.image.matches('^[a-z]')"
message: image uses the latest tag
why: Latest moves.
tests:
  fail: [{apiVersion: v1, kind: Pod, metadata: {name: a}, spec: {containers: [{name: c, image: 'nginx:latest'}]}}]
  pass: [{apiVersion: v1, kind: Pod, metadata: {name: a}, spec: {containers: [{name: c, image: 'nginx:1.27'}]}}]
"""


def test_calls_are_found_qualified_and_outside_strings() -> None:
    expression = ("sets.contains(a, b) && x.all(c, c.name.startsWith('imageTag(')) "
                  "&& imageTag(y) == '' && optional.of(1).hasValue() && size(z) > 0")
    assert sorted(set(celenv.calls(expression))) == [
        "all", "hasValue", "imageTag", "optional.of", "sets.contains", "size", "startsWith"]


def test_every_engine_helper_is_refused_at_every_version() -> None:
    for minor in range(celenv.OLDEST, celenv.NEWEST + 1):
        for helper in HELPERS:
            assert celenv.unavailable(f"{helper}(object)", minor) == [helper]


def test_libraries_arrive_with_their_release() -> None:
    assert celenv.unavailable("'a'.format([1])", 30) == []  # ext.Strings v2, from 1.29
    assert celenv.unavailable("format.dns1123Label().validate('x')", 30) == ["format.dns1123Label", "validate"]
    assert celenv.unavailable("format.dns1123Label().validate('x')", 31) == []
    assert celenv.unavailable("isSemver('1.0.0')", 32) == ["isSemver"]
    assert celenv.unavailable("isSemver('1.0.0')", 33) == []
    assert celenv.unavailable("[1].flatten()", celenv.NEWEST) == ["flatten"]  # cel-go ext.Lists: not in base.go
    with pytest.raises(ValueError, match="1.30"):
        celenv.parse_version("1.29")
    assert celenv.parse_version("v1.31.2") == 31


def test_rename_leaves_fields_strings_and_calls_alone() -> None:
    source = "podSpec.podSpec == 'podSpec' && has(podSpec.x) && params.p.all(params, params)"
    renamed = celenv.rename(source, {"podSpec": "variables.podSpec"})
    assert renamed == ("variables.podSpec.podSpec == 'podSpec' && has(variables.podSpec.x) "
                       "&& params.p.all(params, params)")


def test_a_rule_calling_an_engine_helper_is_refused_with_rule_id_and_function(run_cli, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "team.yaml").write_text(RULE)
    from kspm_tui.yamlio import load_yaml

    rule = Rule.model_validate(load_yaml(RULE))
    with pytest.raises(NotExportable, match=r"calls imageTag\(\) \(a kspm-tui engine helper\)"):
        export_rule(rule, ExportOptions())
    res = run_cli("policy", "export", "--rules", str(rules), "--rule", "K8S-TEAM-TAGGED,K8S-PRIVILEGED")
    assert res.code == 0, res.stderr
    refused = [line for line in res.stderr.splitlines() if "K8S-TEAM-TAGGED" in line]
    assert refused == [("not exportable: K8S-TEAM-TAGGED: calls imageTag() (a kspm-tui engine helper): "
                        "not in the CEL of Kubernetes 1.30")]
    assert "imageTag" not in res.stdout and "kspm-tui-k8s-privileged" in res.stdout
