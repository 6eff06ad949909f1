"""`python -m kspm_tui` runs the same CLI as the `kspm-tui` script."""

from kspm_tui.cli import entry

entry()
