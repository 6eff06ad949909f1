"""What to scan (`Target`), how to judge it (`ScanSettings`), the kube contexts to pick one from, and how a scan reports
progress (`Step`): the scan service's inputs.

Kept apart from `scan.py` so the explorer can list contexts and name targets before the
first paint without importing the engine (and `kubernetes` only once a context is used).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from kspm_tui.config import Config
from kspm_tui.sources import SourceUnavailable  # noqa: F401 - light; what every service call may raise

if TYPE_CHECKING:
    from kspm_tui.sources.kubeconfig import Connection, ContextInfo


@dataclass(frozen=True, slots=True)
class Target:
    """What to scan and how to reach it, the way kubectl flags name it.

    `paths` are manifests ("-" is stdin); with `demo` they are added to the demo cluster.
    `reports` reads a context's kspm-tui PolicyReports (kept by the in-cluster reporter)
    instead of listing its objects.
    `namespace` scopes the scan: a live scan lists namespaced kinds only there; manifests
    without a namespace are placed in it (as `kubectl apply -n NS -f` does) and objects of
    other namespaces are left out.
    """

    kind: Literal["demo", "paths", "context", "reports"]
    paths: tuple[str, ...] = ()
    context: str | None = None  # None: the kubeconfig's current context
    kubeconfig: str | None = None
    namespace: str | None = None
    request_timeout: float | None = None  # seconds per API request (kubectl's --request-timeout)
    max_file_size: int | None = None  # bytes one manifest file (or stdin) may have (None: the default cap)
    parse_cache: bool = True  # YAML parsed before is read from the parse cache (`--no-cache`: parse again)

    @property
    def label(self) -> str:
        """Short, for breadcrumbs and error titles."""
        if self.kind == "demo":
            return "demo"
        if self.kind == "context":
            return self.context or "current context"
        if self.kind == "reports":
            return f"{self.context or 'current context'} (reports)"
        return ", ".join(self.paths) if len(self.paths) < 3 else f"{self.paths[0]} (+{len(self.paths) - 1})"

    @property
    def history_label(self) -> str:
        """What `kspm-tui history` shows for this target ("" lets the record name the cluster)."""
        return " ".join(self.paths) if self.kind == "paths" else ""

    @property
    def saves_history(self) -> bool:
        """Stdin has no stable identity to compare later scans with; reports are the reporter's history."""
        return "-" not in self.paths and self.kind != "reports"


@dataclass(slots=True)
class ScanSettings:
    """How to judge what was collected (CLI flags, explorer options, config)."""

    rules_dirs: list[Path] = field(default_factory=list)
    include_system: bool = False
    context: str | None = None
    cluster_name: str = "local"
    server: str | None = None
    config: Config = field(default_factory=Config)
    skip: list[str] = field(default_factory=list)  # rule ids/globs (--skip)
    only: list[str] = field(default_factory=list)  # rule ids/globs or categories (--only)
    exception_files: list[Path] = field(default_factory=list)  # --exceptions FILE
    user_exceptions: bool = True  # also read exceptions.yaml from the config dir


@dataclass(frozen=True, slots=True)
class Step:
    """Progress of a scan: kinds listed of a live cluster ("collect"), workloads checked ("evaluate")."""

    stage: Literal["collect", "evaluate"]
    done: int
    total: int
    objects: int = 0


Progress = Callable[[Step], None]


def list_contexts(kubeconfig: str | None = None) -> list[ContextInfo]:
    """The kube contexts a user can pick (SourceUnavailable when there is no kubeconfig)."""
    from kspm_tui.sources.kubeconfig import list_contexts as listed

    return listed(kubeconfig)


def kubeconfig_problem(kubeconfig: str | None = None) -> str | None:
    """Why an existing kubeconfig cannot be read (None when it reads fine, or there is none)."""
    from kspm_tui.sources.kubeconfig import kubeconfig_paths

    if not kubeconfig_paths(kubeconfig):
        return None
    try:
        list_contexts(kubeconfig)
    except SourceUnavailable as exc:
        return str(exc)
    return None


def connect(target: Target) -> Connection:
    """An authenticated client for the target's context (SourceUnavailable: one sentence)."""
    from kspm_tui.sources.kubeconfig import connect as connect_context

    return connect_context(target.context, target.kubeconfig, timeout=target.request_timeout)
