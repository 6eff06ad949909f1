"""Key bindings as data: one table of (id, keys, action, description), remappable by users.

Every binding has a stable id; `~/.config/kspm-tui/keymap.yaml` maps ids to other keys
(`{"kspm.rescan": "f5"}`), applied with Textual's `App.set_keymap`. The help screen and the
command palette read the same table, so what they show is what the keys do (the `:` jumps
are data the same way, in jumps.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from kspm_tui.locations import config_dir
from kspm_tui.yamlio import load_yaml


@dataclass(frozen=True, slots=True)
class Key:
    id: str
    keys: str
    action: str
    description: str
    show: bool = True
    palette: bool = True  # offered in the command palette
    app: bool = False  # an App action (else the action of the screen that binds it)
    short: str = ""  # the footer's label when the description is too long for 80 columns


# Everywhere.
APP_KEYS = (
    Key("kspm.quit", "q", "quit", "Quit", app=True),
    Key("kspm.help", "question_mark", "help", "Keys", app=True),
    Key("kspm.jump", "colon", "jump", "Jump", app=True),
    Key("kspm.rescan", "r", "rescan", "Rescan", app=True),
    Key("kspm.watch", "w", "toggle_watch", "Watch", app=True),
    Key("kspm.system", "S", "toggle_system", "System namespaces", show=False, app=True),
    Key("kspm.copy", "c", "copy", "Copy", app=True),
    Key("kspm.back", "escape", "back", "Back", show=False, app=True),
    Key("kspm.rules", "R", "jump_to('rules')", "Rules browser", show=False, app=True),
    Key("kspm.contexts", "C", "jump_to('ctx')", "Contexts", show=False, app=True),
    Key("kspm.overview", "o", "jump_to('overview')", "Cluster overview", show=False, app=True),
)

# On screens with a table.
TABLE_KEYS = (
    Key("kspm.filter", "slash", "filter", "Filter"),
    Key("kspm.sort", "s", "cycle_sort", "Sort"),
)

# On the finding detail screen.
FINDING_KEYS = (
    Key("kspm.by_rule", "b", "by_rule", "All of this rule", short="Rule"),
    Key("kspm.accept", "a", "accept", "Accept risk", short="Accept"),
    Key("kspm.next_tab", "tab", "next_tab", "Next fix tab", palette=False, short="Fix tab"),
)

# On a rule (rules browser, findings of one rule) and on a finding.
POLICY_KEYS = (
    Key("kspm.policy", "p", "policy", "Admission policy", short="Policy"),
)

# On a workload.
WORKLOAD_KEYS = (
    Key("kspm.fix_plan", "f", "fix_plan", "Fix plan"),
)

# On the RBAC subjects screen.
RBAC_KEYS = (
    Key("kspm.who_can", "i", "who_can", "Who can…", short="Who can"),
    Key("kspm.paths", "p", "paths", "Attack paths", short="Paths"),
)

# On the attack paths tree.
PATHS_KEYS = (
    Key("kspm.paths_internal", "t", "toggle_internal", "Paths from inside too", short="Inside too"),
)

# On the context picker.
CONTEXT_KEYS = (
    Key("kspm.all_contexts", "a", "all_contexts", "Fleet: every context's reports", short="Fleet"),
)

# On the fleet table.
FLEET_KEYS = (
    Key("kspm.live_scan", "l", "live_scan", "Scan this context live", short="Live scan"),
)

# On the welcome screen.
WELCOME_KEYS = (
    Key("kspm.demo", "d", "demo", "Demo cluster", short="Demo"),
    Key("kspm.folder", "f", "folder", "Open folder", short="Folder"),
)

# What each screen's footer shows (binding ids, in order): the 5–7 keys that matter there, k9s
# style. Every other key stays bound and is listed by `?` and the command palette.
FOOTER = ("kspm.back", "kspm.copy", "kspm.jump", "kspm.help", "kspm.quit")
TABLE_FOOTER = ("kspm.filter", "kspm.sort", "kspm.copy", "kspm.back", "kspm.jump", "kspm.help")
OVERVIEW_FOOTER = ("kspm.filter", "kspm.sort", "kspm.rescan", "kspm.watch", "kspm.jump", "kspm.help", "kspm.quit")
FLEET_FOOTER = ("kspm.live_scan", "kspm.filter", "kspm.sort", "kspm.copy", "kspm.back", "kspm.jump", "kspm.help")
CONTEXT_FOOTER = ("kspm.all_contexts", "kspm.filter", "kspm.sort", "kspm.jump", "kspm.help", "kspm.quit")
WELCOME_FOOTER = ("kspm.demo", "kspm.folder", "kspm.contexts", "kspm.jump", "kspm.help", "kspm.quit")
DRIFT_FOOTER = ("kspm.filter", "kspm.sort", "kspm.back", "kspm.jump", "kspm.help")
WORKLOAD_FOOTER = ("kspm.fix_plan", "kspm.copy", "kspm.filter", "kspm.back", "kspm.jump", "kspm.help")
FINDING_FOOTER = ("kspm.next_tab", "kspm.copy", "kspm.accept", "kspm.policy", "kspm.by_rule", "kspm.back",
                  "kspm.help")
RBAC_FOOTER = ("kspm.who_can", "kspm.paths", "kspm.filter", "kspm.copy", "kspm.back", "kspm.jump", "kspm.help")
PATHS_FOOTER = ("kspm.paths_internal", "kspm.copy", "kspm.back", "kspm.jump", "kspm.help")
RULES_FOOTER = ("kspm.filter", "kspm.policy", "kspm.sort", "kspm.copy", "kspm.back", "kspm.jump", "kspm.help")


def by_id() -> dict[str, Key]:
    return {k.id: k for k in all_keys()}


def bindings(keys: tuple[Key, ...]) -> list[Binding]:
    return [Binding(k.keys, k.action, k.short or k.description, show=k.show, id=k.id, tooltip=k.description)
            for k in keys]


def all_keys() -> tuple[Key, ...]:
    return (APP_KEYS + TABLE_KEYS + FINDING_KEYS + WORKLOAD_KEYS + POLICY_KEYS + RBAC_KEYS + PATHS_KEYS
            + CONTEXT_KEYS + FLEET_KEYS + WELCOME_KEYS)


def user_keymap() -> tuple[dict[str, str], str | None]:
    """Binding id → keys from the user's keymap.yaml, and a warning if the file is unusable."""
    path = config_dir() / "keymap.yaml"
    if not path.is_file():
        return {}, None
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except Exception as exc:  # unreadable or invalid YAML: keep the defaults  # noqa: BLE001
        return {}, f"{path}: ignored ({exc})"
    known = {k.id for k in all_keys()}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return {}, f"{path}: ignored (expected a mapping of binding id to keys)"
    unknown = sorted(set(data) - known)
    keymap = {k: v for k, v in data.items() if k in known}
    return keymap, f"{path}: unknown binding ids {', '.join(unknown)}" if unknown else None
