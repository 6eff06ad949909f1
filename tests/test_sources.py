"""Reading manifests: YAML streams, JSON, List wrappers, stdin, and bad input that never stops a scan."""

from __future__ import annotations

from pathlib import Path

from kspm_tui.sources.files import read_paths, read_text

FIXTURES = Path(__file__).parent / "fixtures"


def test_multi_document_yaml_keeps_document_index_and_line() -> None:
    got = read_text(b"apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
                    b"apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n", "ns.yaml")
    assert [(o.obj["metadata"]["name"], o.source.document, o.source.line) for o in got.objects] == [
        ("a", 1, 1), ("b", 2, 5)]  # the object's first line, not the `---` before it
    assert got.errors == []


def test_kubectl_list_and_typed_list_wrappers_are_unwrapped() -> None:
    typed = read_text(b"apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: p}\n  spec: {containers: []}\n",
                      "pods.yaml")
    assert [(o.obj["kind"], o.obj["apiVersion"]) for o in typed.objects] == [("Pod", "v1")]
    json_list = read_paths([str(FIXTURES / "manifests" / "list.json")])
    assert [o.obj["metadata"]["name"] for o in json_list.objects] == ["tool"]


def test_bad_documents_are_reported_and_the_rest_is_read() -> None:
    got = read_paths([str(FIXTURES / "bad-input")])
    names = sorted(o.obj["metadata"]["name"] for o in got.objects)
    assert names == ["ok1", "priv"]
    by_file = {(Path(e.file).name, e.document): e for e in got.errors}
    assert "invalid YAML" in by_file[("mixed.yaml", 2)].message
    assert by_file[("mixed.yaml", 2)].line is not None
    assert "missing 'kind'" in by_file[("mixed.yaml", 3)].message
    assert "unknown kind 'Deploymnet'" in by_file[("mixed.yaml", 4)].message
    assert "empty file" in by_file[("empty.yaml", None)].message
    assert "binary file" in by_file[("blob.yaml", None)].message


def test_custom_resources_from_other_groups_are_kept() -> None:
    got = read_text(b"apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: require-labels}\n", "cp.yaml")
    assert got.errors == [] and got.objects[0].obj["kind"] == "ClusterPolicy"


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    got = read_paths([str(tmp_path / "nope.yaml")])
    assert got.objects == [] and "cannot read" in got.errors[0].message
