"""Every shell command kspm-tui prints or copies: built as an argv list, rendered once.

Names come from manifests and clusters, i.e. from anyone who could create an object, and
operators paste these commands into shells that hold their credentials. So every argument is
shell-quoted, options come first and positional arguments follow `--` (a name such as `--all`
or `--server=https://x` stays a name), JSON bodies carry invisible characters as `\\uXXXX`
escapes, and an object whose name holds a control, bidi or zero-width character, or could not
name an object at all (`/`, `%`, `.`, `..`), gets no command: `UnsafeCommand` says why, and
callers show that as guidance instead.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import orjson

from kspm_tui.textsafe import has_hidden, visible

KUBECTL = "kubectl"
_JSON_HIDDEN = re.compile(r"[^\x20-\x7e]")  # after orjson: non-ASCII (C0 is already escaped)


class UnsafeCommand(ValueError):
    """No command can be offered for this object; the message is the guidance shown instead."""


def _check(what: str, value: str, *, path_segment: bool = True) -> None:
    if has_hidden(value):
        raise UnsafeCommand(
            f"No command offered: the {what} {visible(value)} contains control or invisible characters "
            "(shown escaped) that a pasted command would carry to your terminal; inspect the object "
            "and fix it by hand.")
    if path_segment and (not value or value in (".", "..") or "/" in value or "%" in value):
        raise UnsafeCommand(f"No command offered: '{value}' cannot be the {what} of a Kubernetes object.")


def kubectl(verb: str, kind: str | None = None, name: str | None = None, *, args: Sequence[str] = (),
            namespace: str | None = None, context: str | None = None,
            options: Sequence[str] = ()) -> list[str]:
    """`kubectl VERB [-n NS] [--context CTX] OPTIONS -- [KIND NAME] ARGS...` as argv.

    Raises `UnsafeCommand` when a value could not be pasted safely or could not name an object.
    """
    argv = [KUBECTL, verb]
    if namespace:
        _check("namespace", namespace)
        argv += ["-n", namespace]
    if context:
        _check("context", context, path_segment=False)
        argv += ["--context", context]
    positional = [v for v in (kind, name) if v is not None]
    for value in positional:
        _check("name", value)
    for value in (*options, *args):
        _check("value", value, path_segment=False)
    argv += options
    positional += args
    return [*argv, "--", *positional] if positional else argv


def render(argv: Sequence[str], stdin: str | None = None) -> str:
    """The one place argv becomes shell text: each argument quoted; `stdin` follows as a quoted
    here-doc whose delimiter is no line of it (`UnsafeCommand` if it holds hidden characters)."""
    text = " ".join(map(_quote, argv))  # as shlex.join
    if stdin is None:
        return text
    if has_hidden(stdin.replace("\n", "")):
        raise UnsafeCommand("No command offered: the manifest holds control or invisible characters.")
    body = stdin if stdin.endswith("\n") else stdin + "\n"
    lines = set(body.splitlines())
    delimiter = next(d for n in range(len(lines) + 1) if (d := f"EOF{n or ''}") not in lines)
    return f"{text} <<'{delimiter}'\n{body}{delimiter}"


@lru_cache(maxsize=4096)
def _quote(arg: str) -> str:
    """`shlex.quote`, remembered: a scan renders a command per finding, and the verb, flags,
    kinds, namespaces and the patch texts of shared fixes recur on thousands of them."""
    return shlex.quote(arg)


def json_arg(value: Any) -> str:
    """Compact JSON for an argument: keys sorted, anything outside printable ASCII `\\u`-escaped,
    so the command reads the same on every terminal and kubectl decodes the exact value."""
    body = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return _JSON_HIDDEN.sub(_json_escape, body)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # a surrogate pair, as JSON spells characters outside the BMP
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def patch(kind: str, name: str, namespace: str | None, body: Mapping[str, Any],
          context: str | None = None) -> list[str]:
    """`kubectl patch` with a strategic-merge body."""
    return kubectl("patch", kind.lower(), name, namespace=namespace, context=context,
                   options=["--type=strategic", "-p", json_arg(body)])


def delete(kind: str, name: str, namespace: str | None, context: str | None = None) -> list[str]:
    return kubectl("delete", kind.lower(), name, namespace=namespace, context=context)


def edit(kind: str, name: str, namespace: str | None, context: str | None = None) -> list[str]:
    return kubectl("edit", kind.lower(), name, namespace=namespace, context=context)


def create_rolebinding(name: str, namespace: str, clusterrole: str, serviceaccount: str,
                       context: str | None = None) -> list[str]:
    """`kubectl create rolebinding NAME --clusterrole=R --serviceaccount=NS:SA`.

    kubectl's `create` ignores a NAME after `--` (there `--` starts a container command), so the
    name goes before the options, and a name that kubectl could read as a flag gets no command.
    """
    _check("name", name)
    if name.startswith("-"):
        raise UnsafeCommand(f"No command offered: the name {name} starts with '-', which `kubectl create` "
                            "would read as an option; create the RoleBinding from a manifest instead.")
    argv = kubectl("create", namespace=namespace, context=context,
                   options=[f"--clusterrole={clusterrole}", f"--serviceaccount={serviceaccount}"])
    return [*argv[:2], "rolebinding", name, *argv[2:]]


def _metadata_changes(changes: Mapping[str, str | None]) -> list[str]:
    """`key=value` to set, `key-` to remove (None)."""
    return [f"{key}-" if value is None else f"{key}={value}" for key, value in changes.items()]


def annotate(kind: str, name: str, namespace: str | None, changes: Mapping[str, str | None],
             context: str | None = None) -> list[str]:
    """`kubectl annotate --overwrite`: set (`value`) or remove (None) annotations."""
    return kubectl("annotate", kind.lower(), name, args=_metadata_changes(changes), namespace=namespace,
                   context=context, options=["--overwrite"])


def label(kind: str, name: str, namespace: str | None, changes: Mapping[str, str | None],
          context: str | None = None) -> list[str]:
    """`kubectl label --overwrite`: set (`value`) or remove (None) labels."""
    return kubectl("label", kind.lower(), name, args=_metadata_changes(changes), namespace=namespace,
                   context=context, options=["--overwrite"])


def apply_stdin(context: str | None = None) -> list[str]:
    """`kubectl apply -f -`, the manifest given to `render(..., stdin=...)`."""
    return kubectl("apply", context=context, options=["-f", "-"])
