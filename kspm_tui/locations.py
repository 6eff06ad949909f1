"""Where things live: built-in data shipped in the wheel, and the user's own directories.

Built-in rules and themes sit at the top of the repository (`rules/`, `themes/`) and are
copied into the wheel as `kspm_tui/_data/`; an installed copy reads them from there, a
source checkout from the repository. User directories follow platformdirs and can be
moved with KSPM_TUI_CONFIG_DIR / KSPM_TUI_DATA_DIR (tests and CI use these).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from platformdirs import user_config_path, user_data_path

APP = "kspm-tui"
_PACKAGE = Path(__file__).resolve().parent


def builtin_dir(name: str) -> Path:
    """`rules`, `themes` or `frameworks`: from the wheel's `_data/`, else the source checkout."""
    installed = _PACKAGE / "_data" / name
    return installed if installed.is_dir() else _PACKAGE.parent / name


def config_dir() -> Path:
    override = os.environ.get("KSPM_TUI_CONFIG_DIR")
    return Path(override) if override else _user_config_dir(os.environ.get("XDG_CONFIG_HOME"), os.environ.get("HOME"))


@lru_cache(maxsize=8)
def _user_config_dir(xdg_config_home: str | None, home: str | None) -> Path:
    """platformdirs' config directory for these variables (its arguments are only the cache's
    key): it re-reads the environment and builds paths on every call, and fix verdicts look
    up the user's images file once per finding."""
    return user_config_path(APP)


def data_dir() -> Path:
    return Path(os.environ.get("KSPM_TUI_DATA_DIR") or user_data_path(APP))


def user_rules_dir() -> Path:
    return config_dir() / "rules"


def user_themes_dir() -> Path:
    return config_dir() / "themes"
