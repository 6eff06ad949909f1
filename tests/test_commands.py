"""Every command the product prints or copies means exactly its argv, whatever the names hold.

Property tests: for arbitrary names, namespaces, container names, contexts and values,
`shlex.split(command)` is the intended argv for every builder (patch, delete, edit, annotate,
label, apply), or no command is offered and the guidance says why. Then the real shell and the
real kubectl: bash hands kubectl exactly that argv, and kubectl (client dry-run against the test
API server) acts on the object named `--all`, not on all objects.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kspm_tui import commands
from kspm_tui.graph.analysis import Analysis
from kspm_tui.model import Scope
from kspm_tui.remediation import build as build_remediation
from kspm_tui.snapshot import Snapshot
from kspm_tui.sources.files import read_text
from kspm_tui.textsafe import has_hidden
from tests.apiserver.fixtures import manifests
from tests.kubectl import KUBECTL, requires_kubectl

HOSTILE = ["--all", "--server=https:evil", "-n", "-o", "-", "--", "$(id)", "`id`", "a'b", 'a"b', "a b",
           "x;rm -rf ~", "~root", "*", "{a,b}", "!!", "a\\b", "\x1b]52;c;aGk=\x07", "\u202eevil", "a\nb", ""]
names = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=20))
optional = st.one_of(st.none(), names)
json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), names),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(names, inner, max_size=3)), max_leaves=8)
SETTINGS = settings(max_examples=300, deadline=None, derandomize=True)


def _parses_as_built(build: Any) -> list[str] | None:
    """argv when a command is offered (asserting its text parses back to it), else None."""
    try:
        argv = build()
    except commands.UnsafeCommand as unsafe:
        assert str(unsafe).startswith("No command offered") and not has_hidden(str(unsafe))
        return None
    text = commands.render(argv)
    assert shlex.split(text) == argv
    assert not has_hidden(text.replace("\n", "")), text
    return argv


def _scope(namespace: str | None, context: str | None) -> list[str]:
    return [*(["-n", namespace] if namespace else []), *(["--context", context] if context else [])]


@SETTINGS
@given(kind=names, name=names, namespace=optional, context=optional, body=json_values)
def test_patch_commands_parse_as_built(kind: str, name: str, namespace: str | None, context: str | None,
                                       body: Any) -> None:
    argv = _parses_as_built(lambda: commands.patch(kind, name, namespace, {"spec": body}, context))
    if argv is None:
        return
    assert argv == ["kubectl", "patch", *_scope(namespace, context), "--type=strategic", "-p", argv[-4],
                    "--", kind.lower(), name]
    assert json.loads(argv[-4]) == {"spec": body}


@SETTINGS
@given(kind=names, name=names, namespace=optional, context=optional, verb=st.sampled_from(["delete", "edit"]))
def test_delete_and_edit_commands_parse_as_built(kind: str, name: str, namespace: str | None,
                                                 context: str | None, verb: str) -> None:
    build = getattr(commands, verb)
    argv = _parses_as_built(lambda: build(kind, name, namespace, context))
    if argv is not None:
        assert argv == ["kubectl", verb, *_scope(namespace, context), "--", kind.lower(), name]


@SETTINGS
@given(name=names, namespace=optional, context=optional,
       changes=st.dictionaries(names, st.one_of(st.none(), names), min_size=1, max_size=3),
       verb=st.sampled_from(["annotate", "label"]))
def test_annotate_and_label_commands_parse_as_built(name: str, namespace: str | None, context: str | None,
                                                    changes: dict[str, str | None], verb: str) -> None:
    build = getattr(commands, verb)
    argv = _parses_as_built(lambda: build("ServiceAccount", name, namespace, changes, context))
    if argv is not None:
        expected = [f"{k}-" if v is None else f"{k}={v}" for k, v in changes.items()]
        assert argv == ["kubectl", verb, *_scope(namespace, context), "--overwrite", "--", "serviceaccount", name,
                        *expected]


@SETTINGS
@given(name=names, namespace=names, role=names, account=names, context=optional)
def test_create_rolebinding_commands_parse_as_built(name: str, namespace: str, role: str, account: str,
                                                    context: str | None) -> None:
    """kubectl's `create` ignores a NAME after `--`, so the name leads and may not look like a flag."""
    argv = _parses_as_built(lambda: commands.create_rolebinding(name, namespace, role, account, context))
    if argv is not None:
        assert not name.startswith("-")
        assert argv == ["kubectl", "create", "rolebinding", name, *_scope(namespace, context),
                        f"--clusterrole={role}", f"--serviceaccount={account}"]


@SETTINGS
@given(context=optional, labels=st.dictionaries(names, names, max_size=3), name=names)
def test_apply_commands_carry_the_manifest_exactly(context: str | None, labels: dict[str, str], name: str) -> None:
    manifest = {"kind": "NetworkPolicy", "metadata": {"name": name, "labels": labels}}
    try:
        text = commands.render(commands.apply_stdin(context), stdin=yaml.safe_dump(manifest))
    except commands.UnsafeCommand:
        assert context and has_hidden(context)
        return
    first, _, rest = text.partition("\n")
    command, _, delimiter = first.partition(" <<")
    delimiter = shlex.split(delimiter)[0]
    assert shlex.split(command) == ["kubectl", "apply", *_scope(None, context), "-f", "-"]
    body, _, after = rest.rpartition(delimiter)
    assert after == "" and delimiter not in body.splitlines()
    assert yaml.safe_load(body) == manifest and not has_hidden(body.replace("\n", ""))


def test_hidden_characters_get_guidance_instead_of_a_command() -> None:
    patch = {"spec": {"template": {"spec": {"automountServiceAccountToken": False}}}}
    rem = build_remediation(Scope.pod, "Deployment", "web\x1b]52;c;aGk=\x07", "shop", patch["spec"]["template"],
                            "Set it.")
    assert rem.kubectl is None and rem.patch
    assert "No command offered: the name web\\x1b]52;c;aGk=\\x07 contains control" in rem.guidance
    assert "\x1b" not in rem.guidance and rem.guidance.startswith("Set it. ")
    bidi = build_remediation(Scope.object, "Deployment", "web", "\u202eshop", {"spec": {"replicas": 2}}, "")
    assert bidi.kubectl is None and "namespace \\u202eshop" in bidi.guidance


def test_values_inside_json_are_escaped_not_raw() -> None:
    """A container name carrying bidi/C1 characters stays exact for kubectl, visible on screen."""
    text = commands.render(commands.patch("Deployment", "web", "shop",
                                          {"spec": {"containers": [{"name": "a\u202e\x9b\u200bz"}]}}))
    assert "a\\u202e\\u009b\\u200bz" in text and not has_hidden(text)
    assert json.loads(shlex.split(text)[6])["spec"]["containers"][0]["name"] == "a\u202e\x9b\u200bz"


ATTACK = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: "--all", namespace: "-n"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "--all"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: "--all", namespace: "-n"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: "--server=https:evil", namespace: "-n"}
spec:
  selector: {matchLabels: {app: evil}}
  template:
    metadata: {labels: {app: evil}}
    spec:
      serviceAccountName: "--all"
      containers: [{name: c, image: nginx}]
---
apiVersion: v1
kind: Service
metadata: {name: evil, namespace: "-n"}
spec: {type: LoadBalancer, selector: {app: evil}, ports: [{port: 80}]}
"""


def _bash(command: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "--noprofile", "--norc", "-c", prelude + command], capture_output=True,
                          text=True, timeout=120, check=False)


def test_bash_hands_kubectl_exactly_the_argv() -> None:
    """The rendered text through a real shell: `kubectl` as a function that prints its arguments."""
    argv = commands.patch("Deployment", "$(touch pwned)", "`id`", {"spec": {"x": "'; echo hi #"}}, "a b")
    result = _bash(commands.render(argv), "kubectl() { printf '%s\\0' kubectl \"$@\"; }; ")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\0")[:-1] == argv


@requires_kubectl
def test_real_kubectl_acts_on_the_object_named_like_a_flag(serve, kubeconfig, tmp_path: Path) -> None:
    """The attack-path cut for a Deployment named `--server=https:evil` in namespace `-n` patches
    that Deployment (client dry-run: kubectl reads it from the test API server), and deleting a
    binding named `--all` deletes that one binding."""
    objects = list(yaml.safe_load_all(ATTACK))
    server = serve(manifests() + objects)
    config = kubeconfig(server, context="--context")
    collected = read_text(ATTACK.encode(), "attack.yaml")
    assert not collected.errors, collected.errors
    analysis = Analysis(Snapshot(collected.objects), context="--context")
    [path] = analysis.attack_paths(target="cluster-admin")
    # Narrowing the binding named `--all` is preferred, but `kubectl create` cannot take that name
    # safely: guidance instead of a command; the token cut is offered with its command.
    assert path.cut and path.cut.action == "narrow-binding" and path.cut.kubectl is None
    assert path.cut.guidance.startswith("No command offered: the name --all starts with '-'")
    cut = next(c for c in path.other_cuts if c.action == "automount")
    assert cut.kubectl
    delete = commands.render(commands.delete("ClusterRoleBinding", "--all", None, "--context"))
    assert delete == "kubectl delete --context --context -- clusterrolebinding --all"
    prelude = (f"kubectl() {{ {shlex.quote(str(KUBECTL))} --kubeconfig {shlex.quote(str(config))} "
               f"--cache-dir {shlex.quote(str(tmp_path / 'cache'))} --dry-run=client \"$@\"; }}; ")
    deleted = _bash(delete, prelude)
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.strip() == 'clusterrolebinding.rbac.authorization.k8s.io "--all" deleted (dry run)'
    patched = _bash(cut.kubectl, prelude)
    assert patched.returncode == 0, patched.stderr
    assert patched.stdout.strip() == "deployment.apps/--server=https:evil patched"
    assert "/apis/apps/v1/namespaces/-n/deployments/--server=https:evil" in {e.path for e in server.log}
