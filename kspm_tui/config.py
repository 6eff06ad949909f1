"""User configuration (`config.yaml` in the config directory), validated at load.

Holds preferences the CLI and TUI share: system namespaces, rule parameters, theme.
A broken config file is reported and defaults are used; it never stops a scan.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kspm_tui.locations import config_dir
from kspm_tui.snapshot import DEFAULT_SYSTEM_NAMESPACES
from kspm_tui.yamlio import dump_yaml, load_yaml


class AnnotationExceptions(BaseModel):
    """How far an object may waive its own findings with the `kspm-tui.io/accept` annotation.

    Whoever can create an object can annotate it: CI gates turn these off (`enabled: false`,
    or `--no-annotation-exceptions`), and critical findings need an explicit opt-in.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    allow_critical: bool = False


class Config(BaseModel):
    model_config = ConfigDict(extra="ignore")

    system_namespaces: list[str] = Field(default_factory=lambda: list(DEFAULT_SYSTEM_NAMESPACES))
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="rule id → parameter overrides"
    )
    theme: str = "kspm-dark"
    fix_tab: Literal["patch", "kubectl", "diff"] = Field(
        default="patch", description="the finding screen's fix tab last chosen in the explorer"
    )
    history_keep: int = 50
    annotation_exceptions: AnnotationExceptions = Field(default_factory=AnnotationExceptions)


def config_path() -> Path:
    return config_dir() / "config.yaml"


def load_config(path: Path | None = None) -> tuple[Config, str | None]:
    """The config and, if the file was unusable, a one-line warning for the user."""
    path = path or config_path()
    if not path.is_file():
        return Config(), None
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
        return Config.model_validate(data), None
    except (OSError, ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        return Config(), f"{path}: ignored ({first}); using defaults"
    except Exception as exc:  # yaml errors
        return Config(), f"{path}: ignored (invalid YAML: {exc}); using defaults"


def save_config(config: Config, path: Path | None = None) -> None:
    from kspm_tui.atomic_write import atomic_write

    path = path or config_path()
    atomic_write(path, dump_yaml(config.model_dump(mode="json")).encode())
