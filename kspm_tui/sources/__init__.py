"""Sources turn something outside (files, stdin, the demo, a live cluster) into objects.

Every source yields `SourcedObject`s and `InputError`s; none of them evaluates anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kspm_tui.model import CoverageGap, InputError, SourceRef


@dataclass(slots=True)
class SourcedObject:
    """A Kubernetes object as a plain dict, with where it was read from."""

    obj: dict[str, Any]
    source: SourceRef


class SourceUnavailable(Exception):
    """Nothing could be read at all (no kubeconfig, cluster unreachable, ...): exit code 3.

    str() is the one sentence shown to the user: what failed, for which context, and the fix.
    """


@dataclass(slots=True)
class Collected:
    """What a source produced: objects, errors, and what it could not see.

    A live source also knows the cluster's identity (`cluster_id`) and that it saw a whole
    cluster (`is_cluster`); file sources leave both to the snapshot to decide, and say they
    are manifests (`manifests`): what a user asked to scan is shown whole, system namespaces
    too, unless the files are a cluster dump.
    """

    objects: list[SourcedObject] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    coverage: list[CoverageGap] = field(default_factory=list)
    partial: bool = False
    cluster_id: str | None = None
    is_cluster: bool | None = None
    notices: list[str] = field(default_factory=list)  # one-line warnings for the user (e.g. TLS not verified)
    manifests: bool = False  # read from files/stdin (not a live cluster)

    def extend(self, other: Collected) -> None:
        self.objects.extend(other.objects)
        self.errors.extend(other.errors)
        self.coverage.extend(other.coverage)
        self.notices.extend(other.notices)
        self.partial = self.partial or other.partial
