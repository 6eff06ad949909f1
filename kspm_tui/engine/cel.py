"""CEL for rule checks: compile once, evaluate many times in one reusable context.

The Rust-backed `cel` package evaluates a compiled program in about two microseconds;
the cost that matters is converting Python dicts into CEL values, so a context is
filled once per pod template and containers are swapped in one at a time.
Helper functions beyond the CEL core are registered here and documented in
`rules/README.md`.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Callable
from functools import lru_cache
from typing import Any

# The `cel` package's __init__ imports its interactive REPL (typer, prompt_toolkit, ~0.5 s);
# we never use it, and start-up time is a feature, so it is pre-registered as empty.
sys.modules.setdefault("cel.cli", types.ModuleType("cel.cli"))

import cel  # noqa: E402
from cel.stdlib import add_stdlib_to_context  # noqa: E402

from kspm_tui.engine.evidence import looks_secret  # noqa: E402
from kspm_tui.engine.shapes import Shape, projector  # noqa: E402

Program = cel.Program


class CelError(Exception):
    """A CEL expression that does not compile, or fails at evaluation."""


def compile_expression(source: str) -> Program:
    try:
        return cel.compile(source)
    except (ValueError, RuntimeError) as exc:
        raise CelError(_first_lines(str(exc))) from None


def _first_lines(message: str, limit: int = 4) -> str:
    return "\n".join(message.strip().splitlines()[:limit])


@lru_cache(maxsize=4096)
def _image_parts(image: str) -> tuple[str, str, str, str]:
    """Split an image reference into (registry, repository, tag, digest) as Docker does."""
    rest, _, digest = image.partition("@")
    name, tag = rest, ""
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        name, tag = rest[:colon], rest[colon + 1 :]
    first, _, remainder = name.partition("/")
    if remainder and ("." in first or ":" in first or first == "localhost"):
        registry, repo = first, remainder
    else:
        registry, repo = "docker.io", name
    return registry, repo, tag, digest


def image_registry(image: str) -> str:
    return _image_parts(image)[0]


def image_tag(image: str) -> str:
    """The tag ("" when untagged, which means `latest` to the runtime)."""
    return _image_parts(image)[2]


def image_digest(image: str) -> str:
    return _image_parts(image)[3]


def parse_flags(args: list[Any]) -> dict[str, str]:
    """`--name=value` / `--name value` / `--flag` command-line arguments → {name: value}."""
    flags: dict[str, str] = {}
    items = [str(a) for a in args]
    i = 0
    while i < len(items):
        arg = items[i]
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if not eq and i + 1 < len(items) and not items[i + 1].startswith("-"):
                value = items[i + 1]
                i += 1
            elif not eq:
                value = "true"
            flags[name] = value
        i += 1
    return flags


def csv_list(value: str) -> list[str]:
    """`"a,b, c"` → ["a", "b", "c"] (for flags such as --enable-admission-plugins)."""
    return [part.strip() for part in str(value).split(",") if part.strip()]


@lru_cache(maxsize=1024)
def _compiled_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def matches_any(value: str, patterns: list[str]) -> bool:
    """True if `value` matches one of the regular expressions (for rule params)."""
    return any(_compiled_regex(p).search(str(value)) for p in patterns)


def glob_any(value: str, patterns: list[str]) -> bool:
    """True if `value` matches one of the shell-style globs (`registry.example.com/*`)."""
    from fnmatch import fnmatchcase

    return any(fnmatchcase(str(value), p) for p in patterns)


CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def all_containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Init, regular and ephemeral containers of a pod spec, in the order upstream PSA visits them.

    Bound once per pod template as the `allContainers` variable (a Python helper call per
    evaluation would cost five times the check itself).
    """
    return [c for key in CONTAINER_LISTS for c in (pod_spec.get(key) or ()) if isinstance(c, dict)]



def pod_spec_patch(pod_spec: dict[str, Any], fields: dict[str, Any],
                   containers: list[dict[str, Any]]) -> dict[str, Any]:
    """A pod-spec patch: `fields` plus per-container fragments placed in the list holding each name.

    Lets a pod-scope rule fix pod-level and container-level settings in one strategic-merge
    patch that addresses containers by name; empty parts are left out.
    """
    patch = {k: v for k, v in fields.items() if v != {}}
    for key in CONTAINER_LISTS:
        names = {c.get("name") for c in pod_spec.get(key) or () if isinstance(c, dict)}
        fragments = [f for f in containers if f.get("name") in names]
        if fragments:
            patch[key] = fragments
    return patch


def delete_patch(obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """A patch deleting each dotted path that exists in `obj` (`{'a': {'b': null}}`).

    Paths that are absent are skipped, so the patch never creates half-empty parents.
    """
    patch: dict[str, Any] = {}
    for path in paths:
        keys = str(path).split(".")
        node: Any = obj
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
            if node is None:
                break
        else:
            target = patch
            for key in keys[:-1]:
                target = target.setdefault(key, {})
            target[keys[-1]] = None
    return patch




def without_keys(value: dict[str, Any], keys: list[Any]) -> dict[str, Any]:
    """The map without `keys` (`withoutKeys(port, ['hostPort'])`), for rebuilding list items."""
    drop = {str(k) for k in keys}
    return {k: v for k, v in value.items() if k not in drop}

def compact_patch(patch: Any) -> Any:
    """The patch without empty maps, which strategic merge would only add as `{}` noise.

    Lists and nulls are kept: `[]` replaces a list and `null` deletes a field.
    """
    if not isinstance(patch, dict):
        return patch
    out = {k: compact_patch(v) for k, v in patch.items()}
    return {k: v for k, v in out.items() if v != {}}

def map_from_keys(keys: list[Any], value: Any) -> dict[str, Any]:
    """`["a", "b"], null` → `{"a": null, "b": null}` (e.g. deleting annotations in a patch)."""
    return {str(k): value for k in keys}


HELPERS: dict[str, Callable[..., Any]] = {
    "imageRegistry": image_registry,
    "imageTag": image_tag,
    "imageDigest": image_digest,
    "parseFlags": parse_flags,
    "csvList": csv_list,
    "matchesAny": matches_any,
    "globAny": glob_any,
    "secretLike": looks_secret,
    "podSpecPatch": pod_spec_patch,
    "deletePatch": delete_patch,
    "mapFromKeys": map_from_keys,
    "compactPatch": compact_patch,
    "withoutKeys": without_keys,
}


def new_context() -> cel.Context:
    """A context with the CEL extension libraries and our helpers registered."""
    context = cel.Context()
    add_stdlib_to_context(context, ["core", "strings", "sets", "lists"])
    for name, func in HELPERS.items():
        context.add_function(name, func)
    return context


class RuleContext:
    """One CEL context for a group of rules, holding only what those rules read.

    The `cel` package converts a value when it is set (about 1 µs per node) and, at the first
    evaluation after any change, copies every variable the context holds. So each group of
    rules gets its own context; values are only recorded by `set` and converted when a rule
    of the group is about to run, a value that is the very object already set is not
    converted again, and each is converted cut down to the shape the group's rules read
    (`podSpec.securityContext`, each container's `securityContext`: see engine/shapes.py).
    """

    __slots__ = ("context", "wanted", "_cut", "_current", "_pending")

    def __init__(self, wanted: dict[str, Shape], constants: dict[str, Any]) -> None:
        """`wanted`: each variable the rules read, with the shape they read of it."""
        self.context = new_context()
        self.context.update(constants)
        self.wanted = wanted
        self._cut = {name: projector(shape) for name, shape in wanted.items()}
        self._current: dict[str, Any] = {}
        self._pending: dict[str, Any] = {}

    def set(self, values: dict[str, Any]) -> None:
        """Values for the next evaluations; names the group does not read are ignored."""
        for name, value in values.items():
            if name in self.wanted:
                self._pending[name] = value

    def evaluate(self, program: Program) -> Any:
        if self._pending:
            changed = {k: v for k, v in self._pending.items() if self._current.get(k, self) is not v}
            self._pending.clear()
            if changed:
                self._current.update(changed)
                self.context.update({k: self._cut[k](v) for k, v in changed.items()})
        return evaluate(program, self.context)


def evaluate(program: Program, context: cel.Context) -> Any:
    try:
        return program.execute(context)
    except Exception as exc:  # the cel package raises KeyError/TypeError/ValueError/RuntimeError
        raise CelError(_describe(exc)) from None


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"no such key: {exc.args[0]!r} (guard it with has())"
    return _first_lines(f"{type(exc).__name__}: {exc}")
