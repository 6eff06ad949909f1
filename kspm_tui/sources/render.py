"""Directories that are not manifests until rendered: Helm charts and kustomizations.

A chart's templates and a kustomization's bases and patches are not what `kubectl apply`
sends, so scanning their files one by one reports template syntax as YAML errors and patches
as objects. A directory holding `Chart.yaml` is rendered with `helm template` when helm is on
PATH (else one error says how to render it); a directory holding a kustomization is rendered
with `kubectl kustomize` (the kubectl on PATH), through a temporary overlay that asks for
`buildMetadata: [originAnnotations]`, so each object is traced back to the file it came from.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kspm_tui.model import InputError, SourceRef
from kspm_tui.sources import Collected
from kspm_tui.yamlio import load_document, load_yaml, split_documents

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
ORIGIN = "config.kubernetes.io/origin"
RENDER_TIMEOUT_S = 120
_HELM_SOURCE = re.compile(r"^# Source: [^/\n]+/(.+)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Renderable:
    """A directory to render before scanning: a Helm chart or a kustomization."""

    kind: Literal["helm", "kustomize"]
    path: Path


def _kustomization(directory: Path) -> Path | None:
    return next((directory / n for n in KUSTOMIZATION_FILES if (directory / n).is_file()), None)


def renderable(directory: Path) -> Renderable | None:
    if (directory / "Chart.yaml").is_file():
        return Renderable("helm", directory)
    if _kustomization(directory) is not None:
        return Renderable("kustomize", directory)
    return None


def walk(root: Path, suffixes: frozenset[str]) -> Iterator[Path | Renderable]:
    """Manifest files under `root` (sorted), with each chart and each top kustomization in
    place of its files. A kustomization another one in the tree builds on (a base, a
    component) is not rendered on its own: its objects come through the overlays."""
    found: list[Path | Renderable] = []
    used: set[Path] = set()
    for directory, subdirs, files in os.walk(root):
        here = Path(directory)
        target = renderable(here)
        if target is not None:
            subdirs[:] = []
            if target.kind == "kustomize":
                used.update(_referenced(here))
            found.append(target)
            continue
        subdirs.sort()
        found.extend(here / f for f in files if Path(f).suffix.lower() in suffixes and (here / f).is_file())
    kept = [item for item in found if not (isinstance(item, Renderable) and item.kind == "kustomize"
                                           and (item.path.resolve() in used or _is_component(item.path)))]
    yield from sorted(kept, key=lambda item: (item.path if isinstance(item, Renderable) else item).parts)


def _kustomization_data(directory: Path) -> dict[str, Any]:
    file = _kustomization(directory)
    try:
        data = load_yaml(file.read_text(encoding="utf-8")) if file else None
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _referenced(directory: Path) -> set[Path]:
    data = _kustomization_data(directory)
    refs = [r for key in ("resources", "bases", "components") for r in data.get(key) or () if isinstance(r, str)]
    return {(directory / r).resolve() for r in refs if (directory / r).is_dir()}


def _is_component(directory: Path) -> bool:
    return _kustomization_data(directory).get("kind") == "Component"


def render(target: Renderable) -> Collected:
    return _helm(target.path) if target.kind == "helm" else _kustomize(target.path)


def _run(argv: list[str], cwd: Path | None = None) -> tuple[bytes | None, str]:
    """(stdout, "") or (None, the tool's first error line)."""
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=RENDER_TIMEOUT_S, check=False, cwd=cwd)
    except subprocess.TimeoutExpired:
        return None, f"{Path(argv[0]).name} gave no answer in {RENDER_TIMEOUT_S} s"
    except OSError as exc:
        return None, f"cannot run {argv[0]}: {exc.strerror}"
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.decode(errors="replace").splitlines() if ln.strip()]
        return None, next((ln for ln in lines if ln.lower().startswith("error")), lines[-1] if lines else "failed")
    return proc.stdout, ""


def _helm(chart: Path) -> Collected:
    result = Collected()
    name = _chart_name(chart)
    helm = shutil.which("helm")
    if helm is None:
        result.errors.append(InputError(
            file=str(chart), message=f"a Helm chart: its templates are not YAML until rendered; run "
                                     f"`helm template {name} {chart} | kspm-tui scan -` (or put helm on PATH)"))
        return result
    out, error = _run([helm, "template", name, "--", str(chart)])
    if out is None:
        result.errors.append(InputError(file=str(chart), message=f"helm template failed: {error}"))
        return result
    from kspm_tui.sources.files import read_text

    rendered = read_text(out, f"{chart} (helm template)")
    templates = [_HELM_SOURCE.search(doc.text) for doc in split_documents(out.decode("utf-8", "replace"))]
    for item in rendered.objects:
        match = templates[item.source.document - 1] if item.source.document else None
        if match:
            item.source = SourceRef(file=str(chart / match.group(1)), document=None, line=None)
    result.extend(rendered)
    return result


def _chart_name(chart: Path) -> str:
    try:
        data = load_yaml((chart / "Chart.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        data = None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) else "release"


def _kustomize(directory: Path) -> Collected:
    result = Collected()
    kustomization = _kustomization(directory)
    assert kustomization is not None
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        result.errors.append(InputError(
            file=str(kustomization), message=f"a kustomization: install kubectl to render it, or run "
                                             f"`kubectl kustomize {directory} | kspm-tui scan -`"))
        return result
    with tempfile.TemporaryDirectory(prefix="kspm-kustomize-") as tmp:
        overlay = Path(tmp)
        (overlay / "kustomization.yaml").write_text(
            f"resources:\n- {os.path.relpath(directory.resolve(), overlay.resolve())}\n"
            "buildMetadata: [originAnnotations]\n", encoding="utf-8")
        out, error = _run([kubectl, "kustomize", "--", str(overlay)])
        if out is None:
            result.errors.append(InputError(file=str(kustomization), message=f"kubectl kustomize failed: {error}"))
            return result
        from kspm_tui.sources.files import read_text

        rendered = read_text(out, f"{kustomization} (kubectl kustomize)")
        where: dict[Path, dict[tuple[str, str], tuple[int, int]]] = {}
        for item in rendered.objects:
            item.source = _origin(item.obj, overlay.resolve(), kustomization, where)
    result.extend(rendered)
    return result


def _origin(obj: dict[str, Any], overlay: Path, kustomization: Path,
            where: dict[Path, dict[tuple[str, str], tuple[int, int]]]) -> SourceRef:
    """Where kustomize says the object came from (then the annotation goes: the user's own
    build carries none), else the kustomization file."""
    annotations = obj["metadata"].get("annotations") or {}
    origin = annotations.pop(ORIGIN, None)
    if not annotations and "annotations" in obj["metadata"]:
        del obj["metadata"]["annotations"]
    try:
        path = load_yaml(origin).get("path") if isinstance(origin, str) else None
    except (ValueError, AttributeError):
        path = None
    if not isinstance(path, str):
        return SourceRef(file=_shown(kustomization), document=None, line=1)
    file = Path(os.path.normpath(overlay / path))
    if file not in where:
        where[file] = _objects_in(file)
    document, line = where[file].get((obj["kind"], obj["metadata"]["name"]), (None, None))
    return SourceRef(file=_shown(file), document=document, line=line)


def _objects_in(file: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """(kind, name) → (document, first line) of each object in a source file (names before
    kustomize's prefixes; an object renamed by a patch is found by its file alone)."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return {}
    found = {}
    for doc in split_documents(text):
        parsed = load_document(doc)
        if isinstance(parsed, dict) and isinstance(parsed.get("metadata"), dict):
            found[(str(parsed.get("kind")), str(parsed["metadata"].get("name")))] = (doc.index, doc.object_line)
    return found


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
