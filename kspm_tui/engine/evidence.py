"""Evidence: the offending field and its value, with anything secret-like redacted.

Rules name evidence paths relative to their scope root (`securityContext.privileged`,
`ports[*].hostPort`, `env[*].value`); values are read here, and redacted before they can
reach a report, a screen or the clipboard.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from kspm_tui.engine.typed import construct
from kspm_tui.model import Evidence
from kspm_tui.redact import SECRET_KEY, SECRET_VALUE, looks_secret, redact_value

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\*|\d+)\]")


# Evidence is built by the hundred thousand; all of it shares one "fields set" (see
# `evidence()`), instead of pydantic's per-instance set that only ever gains names it has.
_EVIDENCE_FIELDS = set(Evidence.model_fields)


def evidence(path: str, value: Any) -> Evidence:
    """An Evidence from a path string and an already-redacted value, without re-validation."""
    return construct(Evidence, _EVIDENCE_FIELDS, {"path": path, "value": value})


class EvidenceTable:
    """One Evidence per distinct (path, scalar value) in a scan, shared by the findings showing it.

    A hundred thousand findings show a few thousand distinct pieces of evidence
    (`securityContext.privileged: true` under the same container name); each would otherwise
    hold its own Evidence, path string and instance dict. Evidence is a value: nobody changes it.
    Lists and maps are not shared (they are rare, and unhashable).
    """

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, type, Any], Evidence] = {}

    def get(self, prefix: str, path: str, value: Any) -> Evidence:
        if value is not None and not isinstance(value, (str, bool, int, float)):
            return evidence(prefix + path, value)
        key = (prefix, path, type(value), value)  # the type: True == 1, yet they show differently
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = evidence(prefix + path, value)
        return found


def _redact(key: str, value: Any) -> Any:
    """Redact strings whose path/key names a secret or whose value looks like one."""
    if isinstance(value, str) and value and (SECRET_KEY.search(key) or SECRET_VALUE.search(value)):
        return redact_value(value)
    if isinstance(value, dict):
        label = f"{key}[{value.get('name', '')}]"
        return {k: v if k == "name" else _redact(f"{label}.{k}", v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(key, v) for v in value]
    return value


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def redact_manifest(node: Any, name: str = "") -> Any:
    """A copy of a whole object with every secret-looking literal masked, as evidence is: for
    views that show manifest text (the explorer's diff, YAML, copy).

    A string is judged by the name it is stored under (an env entry's `name`, the `--flag`
    before it in `args`) with `looks_secret`; the last-applied annotation, a copy of the
    object as applied, is masked whole.
    """
    if isinstance(node, dict):
        label = node.get("name") if isinstance(node.get("name"), str) and "value" in node else None
        return {key: value if key == "name" else
                redact_value(value) if key == _LAST_APPLIED and isinstance(value, str) else
                redact_manifest(value, label if key == "value" and label else str(key))
                for key, value in node.items()}
    if isinstance(node, list):
        out, flag = [], ""
        for item in node:
            out.append(redact_manifest(item, flag or name))
            flag = item.lstrip("-") if isinstance(item, str) and item.startswith("-") and "=" not in item else ""
        return out
    if isinstance(node, str) and looks_secret(_CAMEL.sub("_", name), node):
        return redact_value(node)
    return node


def collect_evidence(root: Any, paths: list[str]) -> list[tuple[str, Any]]:
    """(path, redacted value) at each of `paths` under `root`; a missing field is evidence too
    (value None). Plain pairs: a finding makes its Evidence with the path from its object."""
    out: list[tuple[str, Any]] = []
    for path in paths:
        parts = _path_parts(path)
        before = len(out)
        _walk_dotted(root, parts, "", out)
        if len(out) == before and "[*]" not in path:
            out.append((path, None))
    return out


def expression_evidence(result: Any) -> list[tuple[str, Any]] | None:
    """(path, redacted value) pairs from an evidenceExpression's list of `{path, value}`; None
    when the result has another shape."""
    if not isinstance(result, list) or not all(isinstance(m, dict) and "path" in m for m in result):
        return None
    return [(str(m["path"]), _redact(str(m["path"]), m.get("value"))) for m in result]


@lru_cache(maxsize=1024)
def _path_parts(path: str) -> list[tuple[str | None, str | None]]:
    """`a.b[*].c` → [("a", None), ("b", None), (None, "*"), ("c", None)]; rules name few paths."""
    return [(m.group(1), m.group(2)) for m in _PATH_PART.finditer(path)]


def _walk_dotted(node: Any, parts: list[tuple[str | None, str | None]], path: str,
                 out: list[tuple[str, Any]]) -> None:
    """Like a JSONPath with `.key`, `[n]` and `[*]`; list items are labelled by name."""
    if not parts:
        out.append((path, _redact(path, node)))
        return
    (key, index), rest = parts[0], parts[1:]
    if key is not None:
        if not isinstance(node, dict) or node.get(key) is None:
            return  # absent, or null, which Kubernetes reads as absent
        _walk_dotted(node[key], rest, f"{path}.{key}" if path else key, out)
        return
    items = node if isinstance(node, list) else []
    indices = range(len(items)) if index == "*" else [int(index or 0)]
    for i in indices:
        if i < len(items):
            item = items[i]
            label = item.get("name") if isinstance(item, dict) and "name" in item else i
            _walk_dotted(item, rest, f"{path}[{label}]", out)
