"""Rule files → validated, compiled rules. A broken rule is reported, never fatal.

A rule file holds one or more YAML documents, each one rule. Every CEL expression is
compiled here, once; the evaluator only executes. The scan service passes a reader that serves
rule files from the parse cache (a third of a short scan's start-up was parsing 45 rule files);
the engine itself reads no cache (it sits below the sources).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kspm_tui.engine.cel import CelError, Program, compile_expression
from kspm_tui.engine.shapes import Shape, reads
from kspm_tui.model import Rule, RuleError, Scope
from kspm_tui.yamlio import load_yaml_all

YamlReader = Callable[[Path], list[Any]]  # a file's YAML documents; raises as load_yaml_all does

# Variables whose values depend only on the pod template: rules reading nothing else can
# be evaluated once per distinct template and the result reused across workloads.
TEMPLATE_VARIABLES = frozenset({"container", "containerType", "podSpec", "podMeta", "allContainers",
                                "params"})
KNOWN_VARIABLES = TEMPLATE_VARIABLES | {"object", "ns", "cluster", "flags", "controlPlane", "component",
                                        "workload", "binding", "role", "subject", "path"}


@dataclass(slots=True, eq=False)  # one object per rule: compared and hashed by identity
class CompiledRule:
    rule: Rule
    check: Program
    message: Program | None = None
    patch: Program | None = None
    severity: Program | None = None
    evidence: Program | None = None
    template_only: bool = False
    variables: frozenset[str] = frozenset()  # the rule variables its expressions read
    # Per variable, the part of it the check reads, and the part the message and patch read
    # (see engine/shapes.py): checks run on every object, the others only on failures.
    check_reads: dict[str, Shape] = field(default_factory=dict)
    detail_reads: dict[str, Shape] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.rule.id


@dataclass(slots=True)
class RuleSet:
    rules: list[CompiledRule] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)

    def by_id(self) -> dict[str, CompiledRule]:
        return {r.id: r for r in self.rules}


def rule_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_rules(directories: Iterable[Path], params: dict[str, dict[str, Any]] | None = None,
               read: YamlReader | None = None) -> RuleSet:
    """Load every rule file under `directories`; later directories override earlier ids.
    `read`: how a rule file's YAML is read (the scan service's reads through the parse cache)."""
    ruleset = RuleSet()
    by_id: dict[str, CompiledRule] = {}
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in rule_files(directory):
            for compiled in _load_file(path, ruleset.errors, read):
                if params and compiled.id in params:
                    compiled.rule.params = {**compiled.rule.params, **params[compiled.id]}
                by_id[compiled.id] = compiled
    ruleset.rules = sorted(by_id.values(), key=lambda r: r.id)
    for compiled in ruleset.rules:
        unknown = [rid for rid in compiled.rule.supersedes if rid not in by_id or rid == compiled.id]
        if unknown:
            ruleset.errors.append(RuleError(file=compiled.rule.source_file, rule=compiled.id,
                                            message=f"supersedes unknown rule {', '.join(unknown)}"))
    return ruleset


def _load_file(path: Path, errors: list[RuleError], read: YamlReader | None = None) -> list[CompiledRule]:
    name = str(path)
    try:
        documents = read(path) if read else load_yaml_all(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(RuleError(file=name, message=f"cannot read rule file: {exc}"))
        return []
    except Exception as exc:  # yaml.YAMLError and friends
        errors.append(RuleError(file=name, message=f"invalid YAML: {exc}"))
        return []
    compiled: list[CompiledRule] = []
    for doc in documents:
        if doc is None:
            continue
        rule_id = doc.get("id") if isinstance(doc, dict) else None
        try:
            rule = Rule.model_validate({**doc, "source_file": name})
        except ValidationError as exc:
            errors.append(RuleError(file=name, rule=rule_id, message=_validation_message(exc)))
            continue
        except TypeError:
            errors.append(RuleError(file=name, message="a rule must be a YAML mapping"))
            continue
        try:
            compiled.append(compile_rule(rule))
        except CelError as exc:
            errors.append(RuleError(file=name, rule=rule.id, message=str(exc)))
    return compiled



_STRING_OR_PARAMS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|(?<![\w.])params\b")


def params_variable(rule_id: str) -> str:
    """The context variable that holds one rule's params (bound once per scan)."""
    return "params_" + re.sub(r"\W", "_", rule_id)


def _bind_params(source: str, rule_id: str) -> str:
    """Rename `params` (outside string literals) to the rule's own variable.

    Setting a variable invalidates the context's converted values, so swapping `params`
    before each evaluation made every parametrised rule re-convert the whole pod template;
    one variable per rule is set once and never swapped.
    """
    name = params_variable(rule_id)
    return _STRING_OR_PARAMS.sub(lambda m: name if m.group() == "params" else m.group(), source)


def compile_rule(rule: Rule) -> CompiledRule:
    """Compile a rule's expressions; raises CelError naming which expression failed."""
    def compile_field(label: str, source: str | None) -> Program | None:
        if source is None:
            return None
        try:
            return compile_expression(_bind_params(source, rule.id))
        except CelError as exc:
            raise CelError(f"{label}: {exc}") from None

    check = compile_field("check", rule.check)
    assert check is not None
    message = compile_field("messageExpression", rule.message_expression)
    patch = compile_field("remediation.patchExpression", rule.remediation.patch_expression)
    severity = compile_field("severityExpression", rule.severity_expression)
    evidence = compile_field("evidenceExpression", rule.evidence_expression)
    used: set[str] = set()
    for program in (check, message, patch, severity, evidence):
        if program is not None:
            used.update(program.variables())
    if params_variable(rule.id) in used:
        used.add("params")
    # Names bound inside macros (`c` in `exists(c, ...)`) are not rule variables.
    free = used & KNOWN_VARIABLES
    template_only = rule.scope in (Scope.container, Scope.pod) and free <= TEMPLATE_VARIABLES
    details = [p.source for p in (message, patch, severity, evidence) if p is not None]
    check_reads = reads([check.source], free)
    detail_reads = reads(details, free)
    return CompiledRule(rule, check, message, patch, severity, evidence, template_only, frozenset(free),
                        check_reads, detail_reads)


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "rule"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)
