"""The `:` jumps as data: one table of (name, help, needs a scan, open) that the jump prompt,
the command palette and the `?` help all read, as the keymap is for keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kspm_tui.tui.app import KspmApp


@dataclass(frozen=True, slots=True)
class Jump:
    name: str
    help: str
    open: Callable[[KspmApp, str], None]  # (app, the rest of what was typed)
    needs_scan: bool = False
    aliases: tuple[str, ...] = ()
    from_overview: bool = False  # opened on top of the overview (the drill path starts over)


def _overview(app: KspmApp, arg: str) -> None:
    """Nothing to open: `from_overview` already went back to it."""


def _ns(app: KspmApp, arg: str) -> None:
    from kspm_tui.tui.screens.namespace import NamespaceScreen

    if not arg:
        return
    if app.index is not None and arg not in app.index.namespaces:
        known = ", ".join(sorted(app.index.namespaces))
        app.notify(f"no findings or workloads in namespace {arg!r} (known: {known})", severity="error")
        return
    app.push_screen(NamespaceScreen(arg))


def _workloads(app: KspmApp, arg: str) -> None:
    from kspm_tui.tui.screens.namespace import NamespaceScreen

    app.push_screen(NamespaceScreen(None))


def _rules(app: KspmApp, arg: str) -> None:
    from kspm_tui.tui.screens.rules import RulesScreen

    app.push_screen(RulesScreen(arg))


def _rule(app: KspmApp, arg: str) -> None:
    from kspm_tui.tui.screens.by_rule import ByRuleScreen

    rule_id = arg.upper()
    if app.rule(rule_id) is None:
        app.notify(f"no rule {rule_id or '(give a rule id)'}", severity="error")
    else:
        app.push_screen(ByRuleScreen(rule_id))


def _rbac(app: KspmApp, arg: str) -> None:
    from kspm_tui.tui.screens.rbac import RbacScreen

    app.push_screen(RbacScreen())


def _can(app: KspmApp, arg: str) -> None:
    from kspm_tui.tui.screens.rbac import open_who_can

    open_who_can(app, arg)


def _paths(app: KspmApp, arg: str) -> None:
    from kspm_tui.tui.screens.paths import PathsScreen

    app.push_screen(PathsScreen())


def _ctx(app: KspmApp, arg: str) -> None:
    from kspm_tui.tui.screens.contexts import ContextsScreen

    if arg:
        app.open_target(app.context_target(arg))
    else:
        app.push_screen(ContextsScreen())


def _fleet(app: KspmApp, arg: str) -> None:
    from kspm_tui.tui.screens.fleet import FleetScreen

    app.push_screen(FleetScreen())


def _exceptions(app: KspmApp, arg: str) -> None:
    from kspm_tui.tui.screens.exceptions import ExceptionsScreen

    app.push_screen(ExceptionsScreen())


def _drift(app: KspmApp, arg: str) -> None:
    from kspm_tui.tui.screens.drift import DriftScreen

    app.push_screen(DriftScreen())


def _themes(app: KspmApp, arg: str) -> None:
    app.search_themes()


JUMPS: tuple[Jump, ...] = (
    Jump("overview", "cluster overview", _overview, needs_scan=True, aliases=("home",), from_overview=True),
    Jump("ns", "namespaces (`:ns NAME` opens one)", _ns, needs_scan=True, aliases=("namespaces", "namespace"),
         from_overview=True),
    Jump("workloads", "every workload in the cluster", _workloads, needs_scan=True, aliases=("wl",),
         from_overview=True),
    Jump("rules", "rules browser (`:rules TEXT` searches)", _rules),
    Jump("rule", "findings of one rule (`:rule K8S-ID`)", _rule, needs_scan=True, from_overview=True),
    Jump("rbac", "RBAC subjects and their permissions", _rbac, needs_scan=True),
    Jump("can", "who can: `:can get secrets -n prod`, `:can create pods/exec`", _can, needs_scan=True,
         aliases=("who-can", "whocan")),
    Jump("paths", "attack paths from the internet (and from inside)", _paths, needs_scan=True, aliases=("attack",)),
    Jump("ctx", "kube contexts (`:ctx NAME` switches)", _ctx, aliases=("context", "contexts")),
    Jump("fleet", "every context's posture from its in-cluster PolicyReports", _fleet, aliases=("clusters",)),
    Jump("exceptions", "accepted risks: active, expired, matching nothing", _exceptions, needs_scan=True,
         aliases=("accepted", "ex")),
    Jump("drift", "what changed since the previous scan", _drift, needs_scan=True, aliases=("diff", "changes")),
    Jump("themes", "choose a theme", _themes, aliases=("theme",)),
)
_BY_WORD = {word: jump for jump in JUMPS for word in (jump.name, *jump.aliases)}


def words() -> list[str]:
    """Every name and alias, for the prompt's suggestions."""
    return list(_BY_WORD)


def parse(text: str) -> tuple[Jump | None, str, str]:
    """(the jump, its argument, the word typed): `:K8S-PRIVILEGED` alone means `:rule K8S-PRIVILEGED`."""
    word, _, arg = text.strip().partition(" ")
    jump = _BY_WORD.get(word.lower())
    if jump is None and word.upper().startswith("K8S-"):
        return _BY_WORD["rule"], word, word.lower()
    return jump, arg.strip(), word.lower()
