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
from hashlib import blake2b
from typing import Any

import orjson

# The `cel` package's __init__ imports its interactive REPL (typer, prompt_toolkit, ~0.5 s);
# we never use it, and start-up time is a feature, so it is pre-registered as empty.
sys.modules.setdefault("cel.cli", types.ModuleType("cel.cli"))

import cel  # noqa: E402
from cel.stdlib import add_stdlib_to_context  # noqa: E402

from kspm_tui.redact import looks_secret  # noqa: E402
from kspm_tui.engine.shapes import Shape, projector  # noqa: E402
from kspm_tui.graph.controlplane import parse_flags  # noqa: E402

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


def new_context(*, helpers: bool = True) -> cel.Context:
    """A context with the CEL extension libraries and (unless `helpers` is false, as for
    admission policies, which the API server runs without them) our helpers registered."""
    context = cel.Context()
    add_stdlib_to_context(context, ["core", "strings", "sets", "lists"])
    for name, func in HELPERS.items() if helpers else ():
        context.add_function(name, func)
    return context


BATCH_AFTER = 8  # distinct inputs before a ProgramSet compiles its programs into one (see there)


class ProgramSet:
    """Programs run together on variables cut to what they read, remembered per distinct input.

    The `cel` package is fast at executing and slow at taking values in: it converts each node
    of a Python value (about 1 µs a node) and copies every variable at the first execution
    after a change. So each variable is converted cut down to the shape the programs read
    (`podSpec.securityContext`, each container's `securityContext`: see engine/shapes.py),
    the programs run as one list expression (one call), and the results are kept per distinct
    cut input: expressions and helpers are pure, so equal inputs give equal results, and
    what a group of rules reads (`securityContext.privileged`) repeats across thousands of
    containers even where the containers themselves do not. The list expression is compiled
    once the set has run on BATCH_AFTER distinct inputs: compiling it costs about 0.35 ms, which
    a small scan would pay for nothing (the demo runs 28 of its 44 multi-program sets on fewer
    than 8 inputs), while a large one runs most sets on hundreds (1k workloads: evaluation 4 %
    slower when batching only after 256 runs, the same after 8).
    """

    __slots__ = ("programs", "context", "_cut", "_batch", "_runs", "_seen")

    def __init__(self, programs: list[Program], reads: dict[str, Shape], constants: dict[str, Any]) -> None:
        """`reads`: each variable the programs read, with the shape they read of it."""
        self.programs = programs
        self.context = new_context()
        self.context.update(constants)
        self._cut = [(name, projector(shape)) for name, shape in reads.items()]
        self._batch: Program | None = None
        self._runs = 0
        self._seen: dict[bytes, list[Any]] = {}

    def run(self, values: dict[str, Any]) -> list[Any]:
        """Each program's result for `values`, or the CelError it raised."""
        cut = {name: project(values[name]) for name, project in self._cut if name in values}
        key = self._key(cut)
        if key is not None:
            known = self._seen.get(key)
            if known is not None:
                return known
        self.context.update(cut)
        results = self._execute()
        if key is not None:
            self._seen[key] = results
        return results

    @staticmethod
    def _key(cut: dict[str, Any]) -> bytes | None:
        """A digest naming the input, or None when JSON cannot name it exactly: not plain JSON
        data (a YAML timestamp, bytes), or a `null`, which stands for None in a list and for
        NaN and infinities alike (cut values have no null map entries). A digest, because
        orjson's output keeps a 4 KiB buffer however short the text."""
        try:
            text = orjson.dumps(cut, option=orjson.OPT_PASSTHROUGH_DATETIME)
        except TypeError:
            return None
        return None if b"null" in text else blake2b(text, digest_size=16).digest()

    def _execute(self) -> list[Any]:
        self._runs += 1
        if self._runs == BATCH_AFTER and len(self.programs) > 1:
            try:
                self._batch = compile_expression("[" + ",\n".join(f"({p.source})" for p in self.programs) + "]")
            except CelError:
                pass  # run one by one
        if self._batch is not None:
            try:
                return list(self._batch.execute(self.context))
            except Exception:  # one program failed: run each, so each reports its own error
                pass
        results: list[Any] = []
        for program in self.programs:
            try:
                results.append(evaluate(program, self.context))
            except CelError as exc:
                results.append(exc)
        return results


def evaluate(program: Program, context: cel.Context) -> Any:
    try:
        return program.execute(context)
    except Exception as exc:  # the cel package raises KeyError/TypeError/ValueError/RuntimeError
        raise CelError(_describe(exc)) from None


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"no such key: {exc.args[0]!r} (guard it with has())"
    return _first_lines(f"{type(exc).__name__}: {exc}")
