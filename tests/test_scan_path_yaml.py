"""The fast YAML loader gives exactly what its own slow path (PyYAML's constructor, with
kubectl's scalar and key rules) gives, on every input shape; that those rules are kubectl's is
proven against kubectl itself in test_yaml_kubectl.py."""

from __future__ import annotations

import gc

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kspm_tui.perf import paused_gc
from kspm_tui.yamlio import RawDocument, _KubectlLoader, load_document, split_documents


class REFERENCE(_KubectlLoader):
    """Every document through PyYAML's generic constructor, never the fast one."""

    def construct_document(self, node: yaml.Node) -> object:
        return self._construct_slowly(node)


CASES = {
    "kubectl object": "apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: null\n  name: p\n"
                      "  labels: {app: web, tier: '1'}\nspec:\n  containers:\n  - name: c\n    image: nginx\n"
                      "    ports:\n    - containerPort: 8080\n      protocol: TCP\n",
    "scalars": "a: 0755\nb: 0x1F\nc: 0b101\nd: 1_000\ne: +5\nf: -3\ng: '007'\nh: 1.5\ni: .inf\nj: -.Inf\n"
               "k: .nan\nl: 1e3\nm: ~\nn: null\no: yes\np: No\nq: on\nr: 'true'\ns: 1:30\nt: 0\nu: '0'\n",
    "timestamps": "a: 2001-12-14\nb: 2001-12-14t21:59:43.10-05:00\nc: '2001-12-14'\n",
    "anchors and aliases": "base: &b {x: 1, y: [1, 2]}\none: *b\ntwo: *b\nlist: &l [a, b]\nagain: *l\n",
    "merge keys": "defaults: &d {a: 1, b: 2}\nitem:\n  <<: *d\n  b: 3\n",
    "explicit tags": "a: !!str 12\nb: !!int '7'\nc: !!float '1'\nd: !!binary aGVsbG8=\ne: !!set {x, y}\n"
                     "f: !!omap [{a: 1}, {b: 2}]\n",
    "non-string keys": "1: one\ntrue: yes\n~: nothing\n2.5: float\n",
    "duplicate keys": "a: 1\na: 2\n",
    "unicode": "name: café\nemoji: \"\\u263A\"\nlong: " + "x" * 200 + "\n",
    "recursive alias": "a: &x [1, *x]\n",
    "empty": "",
    "only a comment": "# nothing here\n",
    "flow": "{apiVersion: v1, kind: List, items: [{a: 1}, {b: [2, 3]}]}\n",
}


def _reference(text: str) -> object:
    try:
        return yaml.load(text, Loader=REFERENCE)  # noqa: S506
    except yaml.YAMLError as exc:
        return f"error: {exc.problem}"


def _ours(text: str) -> object:
    got = load_document(RawDocument(1, 1, text))
    return f"error: {got.message}" if hasattr(got, "message") and hasattr(got, "line") else got


@pytest.mark.parametrize("name", sorted(CASES))
def test_fast_loader_matches_pyyaml(name: str) -> None:
    text = CASES[name]
    ours, ref = _ours(text), _reference(text)
    if name == "recursive alias":  # PyYAML builds a cycle; no manifest is one, and JSON cannot hold it
        assert ours == "error: an alias refers to a node that contains it (recursive YAML)"
        return
    assert ours == ref
    assert type(ours) is type(ref)


def test_aliases_share_one_object_as_in_pyyaml() -> None:
    """A billion-laughs document must stay small: an alias is the same object, not a copy."""
    got = _ours("a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\nd: [*c, *c, *c]\n")
    assert isinstance(got, dict)
    assert got["d"][0] is got["d"][1] is got["c"]


def test_unhashable_key_is_a_parse_error_with_a_line() -> None:
    got = load_document(RawDocument(2, 10, "a: 1\n? [x]\n: 2\n"))
    assert not isinstance(got, dict)
    assert "unsupported map key" in got.message  # type: ignore[union-attr]


def test_types_of_scalars_are_kept() -> None:
    got = _ours(CASES["timestamps"])
    assert isinstance(got, dict)
    # kubectl keeps timestamps as the strings they are (go-yaml v2 into interface{})
    assert got == {"a": "2001-12-14", "b": "2001-12-14t21:59:43.10-05:00", "c": "2001-12-14"}


json_like = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12) | st.integers(0, 99) | st.booleans(), children, max_size=4),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(json_like, st.sampled_from([None, True]))
def test_round_trip_of_arbitrary_structures_matches_pyyaml(data: object, flow: bool | None) -> None:
    text = yaml.dump(data, Dumper=yaml.SafeDumper, default_flow_style=flow, allow_unicode=True)
    assert _ours(text) == _reference(text)


def test_blank_chunks_are_skipped_and_content_after_a_separator_is_kept() -> None:
    text = "# header\n---\n# only a comment\n...\n---\na: 1\n--- plain\n---\n\n"
    docs = list(split_documents(text))
    assert [(d.index, d.line) for d in docs] == [(1, 5), (2, 7)]
    assert [_ours(d.text) for d in docs] == [{"a": 1}, "plain"]


def test_paused_gc_nests_and_restores_the_collector() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
