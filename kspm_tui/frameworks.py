"""The framework catalog: what each framework and control is, loaded from `frameworks/*.yaml`.

Rules say which controls they support (`cis:5.1.3`); this data says what `cis:5.1.3` is
called, whether the upstream recommendation is automated or manual, and — for compliance
frameworks mapped at framework level (SOC 2, PCI DSS, ...) — which technical controls
support each requirement. Data, not code: add a framework by adding a file.
"""

from __future__ import annotations

from collections import Counter
from fnmatch import fnmatchcase
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kspm_tui.locations import builtin_dir
from kspm_tui.model import Rule
from kspm_tui.yamlio import load_yaml


class Control(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    automated: bool = True
    maps: list[str] = Field(default_factory=list, description="framework:control globs (mapped frameworks)")


class Framework(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    version: str = ""
    url: str = ""
    description: str = ""
    mapped: bool = Field(default=False, description="controls are defined by `maps`, not by rule references")
    includes: list[str] = Field(default_factory=list, description="frameworks whose controls this one contains")
    sections: dict[str, str] = Field(default_factory=dict, description="control id prefix → section title")
    controls: list[Control] = Field(default_factory=list)

    def section_of(self, control_id: str) -> str:
        """Title of the most specific section whose prefix (`1.2` for `1.2.15`) holds the id."""
        best = max((p for p in self.sections if control_id.startswith(p + ".")), key=len, default=None)
        return self.sections[best] if best else ""

    def prefixes(self) -> list[str]:
        return [self.id, *self.includes]

    def patterns(self, control: Control) -> list[str]:
        """The `framework:control` references that count toward `control`."""
        return control.maps or [f"{prefix}:{control.id}" for prefix in self.prefixes()]

    def refs(self, rule: Rule) -> list[str]:
        """The rule's references that belong to this framework (for controls not in the catalog)."""
        if self.mapped:
            return []
        return [ref for ref in rule.frameworks if ref.partition(":")[0] in self.prefixes()]

    def selects(self, rule: Rule) -> bool:
        if self.refs(rule):
            return True
        return any(fnmatchcase(ref, pattern) for control in self.controls for pattern in self.patterns(control)
                   for ref in rule.frameworks)


class FrameworkError(Exception):
    """A framework file that cannot be used (reported with its path)."""


def load_frameworks(directory: Path | None = None) -> dict[str, Framework]:
    """Every framework in the catalog by id, with `includes` resolved to their controls."""
    directory = directory or builtin_dir("frameworks")
    found: dict[str, Framework] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            framework = Framework.model_validate(load_yaml(path.read_text(encoding="utf-8")))
        except (OSError, ValidationError, ValueError) as exc:
            raise FrameworkError(f"{path}: {str(exc).splitlines()[0]}") from None
        found[framework.id] = framework
    for framework in found.values():
        own = {c.id for c in framework.controls}
        for included in framework.includes:
            extra = found[included].controls if included in found else []
            framework.controls = [c for c in extra if c.id not in own] + framework.controls
    return found


def coverage_lines(rules: list[Rule], frameworks: dict[str, Framework]) -> list[str]:
    """One line per view of the pack: rules per category, and rules/controls per framework."""
    by_category = Counter(rule.category.value for rule in rules)
    lines = [f"{len(rules)} rules: " + ", ".join(f"{name} {n}" for name, n in sorted(by_category.items()))]
    parts = []
    for framework in frameworks.values():
        selected = [rule for rule in rules if framework.selects(rule)]
        refs = {ref for rule in selected for ref in rule.frameworks}
        covered = sum(1 for c in framework.controls
                      if any(fnmatchcase(ref, p) for p in framework.patterns(c) for ref in refs))
        parts.append(f"{framework.id} {len(selected)} rules, {covered}/{len(framework.controls)} controls")
    if parts:
        lines.append("frameworks: " + "; ".join(parts))
    return lines
