"""`a` on a finding: accept the risk (reason, owner, expiry) and write the exception.

Guard rails: a critical or high finding is accepted only until a date (offered as a value,
today + 30 days, not a placeholder), and every entry names its owner (offered: the login name)
and records when it was made (`created`).
"""

from __future__ import annotations

import getpass
from datetime import date, timedelta
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input

from kspm_tui.labels import object_ref
from kspm_tui.model import Finding, Severity
from kspm_tui.triage.acceptance import AcceptedRisk, exception_for, today_utc, user_exceptions_path
from kspm_tui.tui.widgets.safe import Label, Static


# Severities that cannot be accepted forever, and how long an acceptance lasts unless changed.
MUST_EXPIRE = frozenset({Severity.critical, Severity.high})
DEFAULT_DAYS = 30


def login_name() -> str:
    """Who is accepting: the login name, when the system can tell."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user database entry, no LOGNAME/USER
        return ""


class AcceptScreen(ModalScreen[AcceptedRisk | None]):
    """Returns the exception to write, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, finding: Finding) -> None:
        super().__init__()
        self.finding = finding

    def compose(self) -> ComposeResult:
        f = self.finding
        where = object_ref(f.kind, f.namespace, f.name) + (f" container {f.container}" if f.container else "")
        with Vertical(id="accept"):
            yield Static(Text.assemble(("Accept risk  ", "bold"), f.rule, "  on  ", where), id="accept-title")
            yield Label("Reason (required): why this is acceptable")
            yield Input(placeholder="e.g. node agent needs host PID; reviewed by security", id="reason")
            yield Label("Owner (required): team or person answerable for it")
            yield Input(login_name(), placeholder="team or person answerable for it", id="owner")
            default = (today_utc() + timedelta(days=DEFAULT_DAYS)).isoformat()
            if self.must_expire:
                yield Label(f"Expires (YYYY-MM-DD, required for a {f.severity.value} finding)")
            else:
                yield Label("Expires (YYYY-MM-DD, empty for never)")
            yield Input(default, placeholder="YYYY-MM-DD", id="expires")
            if f.container:
                yield Checkbox(f"whole object (all containers of {f.name}, not only {f.container})",
                               id="whole")
            yield Static(f"Saved to {user_exceptions_path()}", classes="dim")
            yield Static("", id="accept-error")
            with Horizontal(id="accept-buttons"):
                yield Button("Accept", variant="primary", id="accept-ok")
                yield Button("Cancel", id="accept-cancel")

    @property
    def must_expire(self) -> bool:
        return self.finding.severity in MUST_EXPIRE

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "accept-ok":
            self.submit()
        else:
            self.dismiss(None)

    def on_input_submitted(self, _: Input.Submitted) -> None:
        self.submit()

    def submit(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        owner = self.query_one("#owner", Input).value.strip()
        raw = self.query_one("#expires", Input).value.strip()
        error = self.query_one("#accept-error", Static)
        if not reason:
            error.update(Text("A reason is required.", style="bold"))
            self.query_one("#reason", Input).focus()
            return
        if not owner:
            error.update(Text("An owner is required: who answers for this risk?", style="bold"))
            self.query_one("#owner", Input).focus()
            return
        if not raw and self.must_expire:
            error.update(Text(f"A {self.finding.severity.value} finding cannot be accepted forever: "
                              "give an expiry date.", style="bold"))
            self.query_one("#expires", Input).focus()
            return
        expires = None
        if raw:
            try:
                expires = date.fromisoformat(raw)
            except ValueError:
                error.update(Text(f"{raw!r} is not a date: use YYYY-MM-DD.", style="bold"))  # as typed, not markup
                self.query_one("#expires", Input).focus()
                return
        whole = bool(self.query("#whole") and self.query_one("#whole", Checkbox).value)
        self.dismiss(exception_for(self.finding, reason=reason, owner=owner, expires=expires, whole_object=whole))
