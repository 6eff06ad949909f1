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


@dataclass(slots=True)
class Collected:
    """What a source produced: objects, errors, and what it could not see."""

    objects: list[SourcedObject] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    coverage: list[CoverageGap] = field(default_factory=list)
    partial: bool = False

    def extend(self, other: Collected) -> None:
        self.objects.extend(other.objects)
        self.errors.extend(other.errors)
        self.coverage.extend(other.coverage)
        self.partial = self.partial or other.partial
