"""Apply a strategic-merge patch to an object locally (for before/after previews).

Implements the parts of Kubernetes' strategic merge our remediations use: maps merge
recursively, `null` deletes a key, lists of containers/volumes/env/mounts/ports merge by
their merge key (`$patch: delete` removes an item), other lists are replaced. Tests compare
the result with the real `kubectl patch --local`.

The result is built copy-on-write: only the maps and lists on the patch's paths are new, every
part the patch does not touch is shared with the original. A scan judges every fix by
validating its patched object, and deep-copying whole workloads (status included) for that was
a quarter of the engine's time; callers only read the result (validation, YAML diffs).
"""

from __future__ import annotations

from typing import Any

# List field → merge key, as in the Kubernetes API's `patchMergeKey` tags.
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "volumes": "name", "env": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "ports": "containerPort", "imagePullSecrets": "name", "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey", "resourceClaims": "name",
}


def apply(obj: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """`obj` patched, sharing what the patch does not touch with `obj` (read it, do not modify
    it); `obj` is not modified."""
    return _merge_map(obj, patch)


def _merge_map(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(target)
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge_map(out[key], value)
        elif isinstance(value, list) and key in MERGE_KEYS and isinstance(out.get(key), list):
            out[key] = _merge_list(out[key], value, MERGE_KEYS[key])
        else:
            out[key] = _strip_directives(value)  # new maps and lists: the patch is never shared
    return out


def _merge_list(target: list[Any], patch: list[Any], merge_key: str) -> list[Any]:
    out = list(target)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            out.append(item)
            continue
        at = next((i for i, cur in enumerate(out)
                   if isinstance(cur, dict) and cur.get(merge_key) == item[merge_key]), None)
        if item.get("$patch") == "delete":
            if at is not None:
                del out[at]
        elif at is None:
            out.append(_strip_directives(item))
        else:
            out[at] = _merge_map(out[at], item)
    return out


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value
