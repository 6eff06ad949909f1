"""`--skip RULE[,RULE]` and `--only RULE|category`: narrow the rule set for one run.

Patterns are rule ids or shell globs (`K8S-HOST-*`), case-insensitive; `--only` also takes a
category name (`"Pod Security"`, `rbac`). Unknown names are reported, not ignored, so a typo in
CI does not silently run everything (or nothing).
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from kspm_tui.engine.loader import CompiledRule, RuleSet


def split_patterns(values: list[str]) -> list[str]:
    """Flags may repeat and hold comma-separated lists: ["a,b", "c"] → ["a", "b", "c"]."""
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


def _hits(rule: CompiledRule, pattern: str, *, categories: bool) -> bool:
    if fnmatchcase(rule.id, pattern.upper()):
        return True
    return categories and rule.rule.category.value.lower() == pattern.lower()


def select_rules(ruleset: RuleSet, skip: list[str], only: list[str]) -> tuple[RuleSet, list[str]]:
    """The rules left after --only/--skip, and a message for each pattern that matched nothing."""
    problems = []
    rules = ruleset.rules
    for pattern in only:
        if not any(_hits(r, pattern, categories=True) for r in ruleset.rules):
            problems.append(f"--only {pattern}: no rule or category of that name")
    for pattern in skip:
        if not any(_hits(r, pattern, categories=False) for r in ruleset.rules):
            problems.append(f"--skip {pattern}: no rule of that id")
    if only:
        rules = [r for r in rules if any(_hits(r, p, categories=True) for p in only)]
    if skip:
        rules = [r for r in rules if not any(_hits(r, p, categories=False) for p in skip)]
    return RuleSet(rules=rules, errors=ruleset.errors), problems
