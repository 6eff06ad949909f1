"""The native loader (ryaml where provably equal, yamlio elsewhere) reads every manifest exactly
as yamlio does, value for value and type for type, errors and their lines included.

Differential over every YAML file of the tests; exhaustive over short number-like and boolean
spellings; a hypothesis property over generated documents full of the constructs YAML 1.1 and
1.2 read differently (booleans, octals, underscores, exponents, sexagesimals, nulls, timestamps,
merge keys, tags, anchors and aliases, quoted and plain, as keys and values, block and flow);
and a scan without ryaml installed reads the same as one with it.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kspm_tui import yamlnative
from kspm_tui.sources.files import parse_documents
from kspm_tui.yamlio import ParseFailure, RawDocument, load_document, split_documents
from tests.conftest import ROOT
from tests.test_parse_cache import strict


def reading(value: Any) -> Any:
    """What a loader gave, typed: a value spelt out, or an error with its line."""
    if isinstance(value, ParseFailure):
        return ("error", value.message, value.line)
    return strict(value)


def assert_same(text: str) -> None:
    """Every document of `text` read alike by the hybrid and by yamlio."""
    for doc in split_documents(text):
        assert reading(yamlnative.load_document(doc)) == reading(load_document(doc)), text


def native(text: str) -> bool:
    """Whether ryaml (not yamlio) read this document."""
    try:
        yamlnative.read_natively(text)
    except yamlnative.NotNative:
        return False
    return True


def test_ryaml_is_installed_here() -> None:
    """The tests below prove the hybrid only if ryaml runs (pyproject installs it on this platform)."""
    assert yamlnative.available()


def test_every_yaml_file_in_the_tests_reads_as_yamlio_reads_it() -> None:
    files = sorted(p for p in ROOT.joinpath("tests").rglob("*")
                   if p.suffix in (".yaml", ".yml") and p.is_file())
    natively = documents = 0
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        for doc in split_documents(text):
            documents += 1
            assert reading(yamlnative.load_document(doc)) == reading(load_document(doc)), \
                f"{path} #{doc.index}"
            natively += native(doc.text)
    assert len(files) > 200
    assert natively > documents // 2  # the fast path is really taken, not everything sent to yamlio


def test_what_yaml_1_2_reads_otherwise_goes_to_yamlio() -> None:
    """The spellings ryaml reads otherwise are never taken from it, quoted ones are."""
    for plain in ("yes", "No", "on", "OFF", "y", "N", "0755", "08", "1_000", "<<", "1e400", ".inf", "-.Inf"):
        assert not native(f"a: {plain}\n") and not native(f"{plain}: a\n") and not native(f"a: [{plain}]\n")
        assert_same(f"a: {plain}\nb: [{plain}, x]\n")
    for quoted in ('"yes"', "'on'", '"0755"'):
        assert_same(f"a: {quoted}\n")
    assert native("a: 'yes'\n") is False  # a string kubectl reads as a bool when plain: undecided
    assert native("a: 'true'\nb: '3'\nc: ''\n")  # ryaml reads these plain as non-strings: quoted
    for construct in ("a: !!binary aGk=\n", "a: &x {b: 1}\nc: *x\n", "%YAML 1.1\n---\na: 1\n",
                      "<<: {a: 1}\n", "a: 1\na: 2\n", "1: a\n", "? [x]\n: 1\n", "a: 1e3\n"):
        assert_same(construct)
    assert yamlnative.load_document(RawDocument(1, 1, "a: 1e3\n")) == {"a": 1000}


def test_errors_keep_their_document_and_line() -> None:
    text = "a: 1\n---\nb: [1,\n---\nc: .inf\n---\nd: yes\n"
    documents = parse_documents(text)
    assert [(d.index, d.line, d.error is not None) for d in documents] == \
        [(1, 1, False), (2, 4, True), (3, 5, True), (4, 7, False)]  # where the parser stopped
    assert "kubectl rejects it" in (documents[2].error or "") and documents[3].value == {"d": True}


def test_an_explicit_tag_its_value_cannot_hold_is_an_error_not_a_crash() -> None:
    """`!!int yes` is refused by kubectl; it names its document and the others are read."""
    documents = parse_documents("a: !!int yes\n---\nb: !!float no\n---\nc: !!int '12'\n")
    assert [(d.index, d.error, d.value) for d in documents] == [
        (1, "'yes' is not an integer", None), (2, "'no' is not a number", None), (3, None, {"c": 12})]


def test_every_short_number_like_spelling_reads_as_yamlio_reads_it() -> None:
    """Exhaustive up to three characters over what numbers, booleans and nulls are spelt with."""
    alphabet = "019xXoObBeE._+-:~"
    words = ["".join(p) for n in (1, 2, 3) for p in itertools.product(alphabet, repeat=n)]
    bases = ("yes", "no", "on", "off", "y", "n", "true", "false", "null", ".inf", ".nan", "nan", "inf")
    words += [w for base in bases
              for w in (base, base.upper(), base.capitalize(), "+" + base, "-" + base)]
    for chunk in range(0, len(words), 500):
        batch = words[chunk:chunk + 500]
        for template in ("a: {}\n", "- {}\n", "[{}]\n", "{}: a\n", "a: '{}'\n", "a: \"{}\"\n"):
            for word in batch:
                assert_same(template.format(word))


# --- property test: generated documents full of YAML 1.1 / 1.2 differences ---------------------

DANGEROUS = [
    "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N",
    "true", "True", "TRUE", "false", "False", "FALSE", "tRue",
    "~", "null", "Null", "NULL", "",
    "0755", "0o17", "0x1F", "0b101", "08", "00", "0", "-0", "+12", "1_000", "1__0", "1_", "_1",
    "1e3", "1E3", "1.", ".5", "-.5e3", "3.0", "1e20", "1e400", ".inf", "-.Inf", "+.INF", ".nan", ".NaN",
    "1:20", "190:20:30", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
    "=", "<<", "99999999999999999999", "18446744073709551615", "9223372036854775808", "0xFFFFFFFFFFFFFFFFF",
    "IfNotPresent", "TCP", "nginx:1.25", "privileged", "a b", "http://x/y", "-1", "12e", "0x",
]
WORD = st.from_regex(r"\A[a-zA-Z][a-zA-Z0-9-]{0,6}\Z")
SCALAR = st.one_of(st.sampled_from(DANGEROUS), st.from_regex(r"\A[-+]?[0-9_.xobeEXOB:]{1,8}\Z"), WORD)


@st.composite
def scalar_text(draw: st.DrawFn, *, key: bool = False, properties: bool = True) -> str:
    """A scalar as written: plain, quoted, or (with `properties`) a tag or anchor in front."""
    value = draw(SCALAR if properties or not key else st.one_of(WORD, WORD, WORD, SCALAR))
    style = draw(st.sampled_from(["plain", "plain", "plain", "single", "double"]))
    text = value if style == "plain" else ("'" + value.replace("'", "''") + "'" if style == "single"
                                           else json.dumps(value))
    if properties and not key:
        prefix = draw(st.sampled_from(["", "", "", "", "!!str ", "!!int ", "!!binary ", "&a ", "!!float "]))
        text = prefix + text
    return text


def node(depth: int, properties: bool = True) -> st.SearchStrategy[Any]:
    """A tree: ("map", [(key, child)]), ("seq", [child]), ("alias",) or a scalar's text."""
    leaf = st.one_of(scalar_text(properties=properties), st.just(("alias",))) if properties \
        else scalar_text(properties=False)
    if depth == 0:
        return leaf
    child = node(depth - 1, properties)
    return st.one_of(
        leaf,
        st.tuples(st.just("map"), st.lists(st.tuples(scalar_text(key=True, properties=properties), child),
                                           min_size=1, max_size=4, unique_by=lambda entry: entry[0])),
        st.tuples(st.just("seq"), st.lists(child, min_size=1, max_size=4)),
    )


def render(tree: Any, indent: int, flow: bool) -> str:
    """YAML text for a generated tree, in block or flow style."""
    if isinstance(tree, str):
        return tree
    if tree == ("alias",):
        return "*a"
    kind, items = tree
    if flow:
        if kind == "map":
            return "{" + ", ".join(f"{k}: {render(v, 0, True)}" for k, v in items) + "}"
        return "[" + ", ".join(render(v, 0, True) for v in items) + "]"
    pad = " " * indent
    lines = []
    for item in items:
        key, value = (item if kind == "map" else ("-", item))
        lead = f"{pad}{key}:" if kind == "map" else f"{pad}-"
        if isinstance(value, tuple) and value != ("alias",):
            lines.append(f"{lead}\n{render(value, indent + 2, False)}")
        else:
            lines.append(f"{lead} {render(value, 0, False)}")
    return "\n".join(lines)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Either anything (tags, anchors, aliases, directives, merge keys: mostly left to yamlio) or
    only scalars and collections, which ryaml reads whenever no string in them is ambiguous."""
    properties = draw(st.booleans())
    depth = 2 if properties else 1
    entries = st.tuples(scalar_text(key=True, properties=properties), node(depth, properties))
    tree = ("map", draw(st.lists(entries, min_size=1, max_size=5 if properties else 3,
                                 unique_by=lambda entry: entry[0])))
    heads = ["", "---\n", "%YAML 1.1\n---\n", "<<: {merged: yes}\n"] if properties else ["", "---\n"]
    return draw(st.sampled_from(heads)) + render(tree, 0, draw(st.booleans())) + "\n"


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_read_as_yamlio_reads_them(text: str) -> None:
    assert_same(text)


# --- without ryaml ------------------------------------------------------------------------------

def test_a_scan_without_ryaml_reads_what_a_scan_with_it_reads(tmp_path: Path) -> None:
    """A platform without the wheel: the import fails, yamlio reads everything, same report."""
    manifest = tmp_path / "pod.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n"
                        "  containers:\n  - name: app\n    image: nginx:1.25\n"
                        "    securityContext: {privileged: yes, runAsUser: 0}\n---\nbroken: [\n")
    reports = []
    for block in ("", "import sys; sys.modules['ryaml'] = None; "):
        code = (f"{block}import kspm_tui.yamlnative as n; assert n.available() == {not block}; "
                "from kspm_tui.cli import entry; sys.argv = ['kspm-tui', 'scan', '--no-cache', '-o', 'json', "
                f"{str(manifest)!r}]; entry()")
        proc = subprocess.run([sys.executable, "-c", "import sys; " + code], capture_output=True, text=True,
                              cwd=ROOT, env={**os.environ, "NO_COLOR": "1"}, check=False, timeout=300)
        assert proc.returncode in (1, 2), proc.stderr
        report = json.loads(proc.stdout)
        reports.append({k: report[k] for k in ("findings", "errors", "summary")})
    assert reports[0] == reports[1]
    assert "K8S-PRIVILEGED" in {f["rule"] for f in reports[0]["findings"]}  # `privileged: yes` is true
    assert [e["document"] for e in reports[0]["errors"]] == [2]


def test_the_parse_cache_keys_on_which_loader_reads() -> None:
    """Entries written with ryaml are not served to a process without it (nor the reverse)."""
    digests = []
    for block in ("", "sys.modules['ryaml'] = None; "):
        code = (f"import sys; {block}from kspm_tui.sources.parse_cache import _parser_digest; "
                "print(_parser_digest().hex())")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                              check=True, timeout=120)
        digests.append(proc.stdout.strip())
    assert len(set(digests)) == 2 and all(digests)
