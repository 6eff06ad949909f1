"""Manifests read as kubectl reads them: a differential test against the real kubectl.

`kubectl patch --local -f FILE --type merge -p '{}' -o json` decodes FILE exactly as `kubectl
apply` does (sigs.k8s.io/yaml over go-yaml v2) and prints what it read, without a cluster. Every
YAML file in the tests, the vendored corpus and a generated bench cluster goes through both
readers: where kubectl reads the file, we must read the same objects with no error; where
kubectl refuses it, we must report an error for it too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kspm_tui.sources.files import read_paths, read_text
from kspm_tui.yamlio import ParseFailure, load_document, split_documents
from tests.kubectl import KUBECTL, requires_kubectl

ROOT = Path(__file__).resolve().parent

QUIRKS = ROOT / "fixtures" / "yaml-kubectl"

pytestmark = requires_kubectl


def _bench_sample() -> list[Path]:
    """Two namespace files of a small generated cluster (`kubectl get -o yaml` style Lists)."""
    sys.path.insert(0, str(ROOT.parent / "bench"))
    try:
        from generate import ensure  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return sorted((ensure(100) / "manifests").glob("*.yaml"))[:2]


def _yaml_files() -> list[Path]:
    files = sorted(p for p in ROOT.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
                   and "__snapshots__" not in p.parts)
    return files


def kubectl_read(path: Path) -> tuple[list[dict[str, Any]] | None, str]:
    """The objects kubectl reads from `path`, or None and its error."""
    proc = subprocess.run([str(KUBECTL), "patch", "--local", "-f", str(path), "--type", "merge", "-p", "{}",
                           "-o", "json"], check=False, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return None, proc.stderr
    decoder, text, objects, at = json.JSONDecoder(), proc.stdout, [], 0
    while text[at:].strip():
        obj, end = decoder.raw_decode(text, at + len(text[at:]) - len(text[at:].lstrip()))
        objects.extend(obj["items"] if obj.get("kind") == "List" else [obj])
        at = end
    return objects, ""


def _compare(path: Path) -> None:
    """Values are compared document by document (whether an object is complete enough to scan,
    e.g. a `kustomization.yaml` without a name, is a separate question kubectl does not ask)."""
    expected, error = kubectl_read(path)
    text = path.read_bytes().decode("utf-8-sig")
    documents = [load_document(doc) for doc in split_documents(text)]
    if expected is None:
        assert read_text(path.read_bytes(), str(path)).errors, \
            f"kubectl refuses {path} ({error.strip()}) but we read it without an error"
        return
    assert not [d.message for d in documents if isinstance(d, ParseFailure)]
    ours = [item for d in documents if d is not None
            for item in (d["items"] if isinstance(d, dict) and d.get("kind") == "List" else [d])]
    assert ours == expected


FILES = _yaml_files()


def test_the_differential_covers_tests_corpus_and_quirks() -> None:
    rel = {str(p.relative_to(ROOT)) for p in FILES}
    assert len(rel) > 150
    assert any(r.startswith("corpus/") for r in rel) and any(r.startswith("conformance/") for r in rel)
    assert (QUIRKS / "yaml11.yaml") in FILES and (QUIRKS / "no-json-form.yaml") in FILES


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_we_read_every_test_yaml_as_kubectl_does(path: Path) -> None:
    _compare(path)


def test_we_read_a_generated_cluster_as_kubectl_does() -> None:
    for path in _bench_sample():
        _compare(path)


def test_yaml11_values_resolve_as_kubectl_resolves_them() -> None:
    """The values people trip on, as a user sees them in the scan (and as kubectl sends them)."""
    data = read_text((QUIRKS / "yaml11.yaml").read_bytes(), "yaml11.yaml").objects[0].obj["data"]
    assert data["v-yes"] is True and data["v-on"] is True and data["v-y"] is True and data["v-off"] is False
    assert data["octal"] == 493 and data["octal12"] == 15 and data["hex"] == 31 and data["binary"] == 5
    assert data["underscores"] == 1000 and data["exponent"] == 1000 and isinstance(data["exponent"], int)
    assert data["sexagesimal"] == "1:20" and data["date"] == "2001-12-14" and data["equals"] == "="
    assert data["true"] == "on as a key" and data["1"] == "an int key"


def test_a_crd_enum_holding_a_bare_equals_sign_loads() -> None:
    """libyaml tags a plain `=` as `value`, which PyYAML cannot construct; kubectl reads a string."""
    result = read_paths([str(QUIRKS / "crd-enum.yaml")])
    assert not result.errors
    crd = result.objects[0].obj
    enum = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["op"]["enum"]
    assert enum == ["=", "!=", "<", ">"]


def test_values_json_cannot_hold_are_errors_naming_the_document(tmp_path: Path) -> None:
    result = read_text((QUIRKS / "no-json-form.yaml").read_bytes(), "no-json-form.yaml")
    assert [(e.document, "kubectl rejects it" in e.message) for e in result.errors] == [(1, True), (2, True)]
    assert [o.obj["metadata"]["name"] for o in result.objects] == ["fine"]
