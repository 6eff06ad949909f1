"""First run without kubeconfig contexts: say so, offer the demo or a folder of manifests."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Center, Vertical
from textual.widgets import Button, Footer, Input

from kspm_tui.target import Target
from kspm_tui.tui import keymap
from kspm_tui.tui.screens.base import KspmScreen
from kspm_tui.tui.widgets.safe import Static

WELCOME = (
    "[b]Welcome to kspm-tui[/b], a Kubernetes security posture explorer.\n\n"
    "No kubeconfig contexts were found (KUBECONFIG or ~/.kube/config), so there is no cluster to "
    "scan yet. Explore the bundled [b]demo cluster[/b], or open a folder of manifests (what "
    "`kubectl get -A -o yaml` or your Git repository holds)."
)


class WelcomeScreen(KspmScreen):
    footer: ClassVar[tuple[str, ...]] = keymap.WELCOME_FOOTER
    crumb = "welcome"
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings(keymap.WELCOME_KEYS)

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Center(), Vertical(id="welcome"):
            yield Static(WELCOME, id="welcome-text", markup=True)
            yield Button("Explore the demo cluster (d)", id="demo", variant="primary")
            yield Input(placeholder="path to a manifests folder or file, then Enter", id="path")
            yield Static("", id="path-error")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "demo":
            self.action_demo()

    def action_demo(self) -> None:
        self.kspm.open_target(Target("demo"))

    def action_folder(self) -> None:
        self.query_one("#path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        if not event.value.strip() or not path.exists():
            self.query_one("#path-error", Static).update(Text(f"{path} does not exist", style="red"))
            return
        self.kspm.open_target(Target("paths", paths=(str(path),)))
