"""The import graph the README describes, checked on the AST of every module (function-level and
TYPE_CHECKING imports included): data flows sources → snapshot → graph → engine → results → tui/report,
and only the scan service (scan.py, target.py, watch_scan.py) joins sources to the rest."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "kspm_tui"

# The fetchers. `kspm_tui.sources` itself only holds the data types that flow out of them
# (SourcedObject, Collected, SourceUnavailable), which the snapshot and the service may use.
FETCHERS = tuple(f"kspm_tui.sources.{p.stem}" for p in sorted((PACKAGE / "sources").glob("*.py"))
                 if p.stem != "__init__")

# layer (a subpackage) → module prefixes it must never import ("kspm_tui.sources": its fetchers)
FORBIDDEN = {
    "sources": ("kspm_tui.cli", "kspm_tui.tui", "kspm_tui.engine", "kspm_tui.graph", "kspm_tui.report",
                "kspm_tui.triage", "kspm_tui.scan", "kspm_tui.watch_scan"),
    "engine": ("kspm_tui.cli", "kspm_tui.tui", "kspm_tui.sources", "kspm_tui.scan"),
    "graph": ("kspm_tui.cli", "kspm_tui.tui", "kspm_tui.sources", "kspm_tui.engine", "kspm_tui.scan"),
    "report": ("kspm_tui.cli", "kspm_tui.tui", "kspm_tui.sources", "kspm_tui.scan"),
    "triage": ("kspm_tui.cli", "kspm_tui.tui", "kspm_tui.sources", "kspm_tui.scan"),
    "tui": ("kspm_tui.cli", "kspm_tui.sources", "kspm_tui.report"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it (`from kspm_tui import x` counts as kspm_tui.x)."""
    found: set[str] = set()
    package = module_name(path).rpartition(".")[0] if path.name != "__init__.py" else module_name(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def forbidden(layer: str) -> tuple[str, ...]:
    return tuple(m for bad in FORBIDDEN[layer] for m in (FETCHERS if bad == "kspm_tui.sources" else (bad,)))


def modules_of(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_is_below_it(layer: str) -> None:
    files = modules_of(layer)
    assert len(files) >= 3, f"kspm_tui/{layer}/ has too few modules to check: {files}"
    broken = {
        f"{module_name(f)} imports {name}"
        for f in files for name in imports(f)
        if any(name == bad or name.startswith(bad + ".") for bad in forbidden(layer))
    }
    assert not broken, "\n".join(sorted(broken))


def test_the_checker_sees_function_level_and_type_checking_imports() -> None:
    sample = PACKAGE / "tui" / "app.py"
    found = imports(sample)
    assert "kspm_tui.scan.run_scan" in found  # imported inside the scan worker
    assert "kspm_tui.scan.Scanned" in found  # imported under TYPE_CHECKING


def test_only_the_scan_service_reaches_sources_outside_the_cli() -> None:
    """Outside the CLI, only the service modules (and sources itself) import a fetcher."""
    assert "kspm_tui.sources.live" in FETCHERS and "kspm_tui.sources.watch" in FETCHERS
    service = {"kspm_tui.scan", "kspm_tui.target", "kspm_tui.watch_scan", "kspm_tui.fleet.service"}
    offenders = set()
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        if name.startswith(("kspm_tui.sources", "kspm_tui.cli")) or name in service:
            continue
        if any(i == m or i.startswith(m + ".") for i in imports(path) for m in FETCHERS):
            offenders.add(name)
    assert not offenders, sorted(offenders)
