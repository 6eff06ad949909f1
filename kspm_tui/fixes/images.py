"""Well-known images: the user they run as and the paths they write (data in data/images.yaml).

The user's `images.yaml` in the config directory extends the built-in list (its entries win),
so a team can teach the fixer about its own images.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kspm_tui.locations import config_dir
from kspm_tui.yamlio import load_yaml_all

BUILTIN = Path(__file__).parent / "data" / "images.yaml"


class ImageFacts(BaseModel):
    """What is known about one image (see data/images.yaml for the meaning of each field)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    match: list[str]
    user: int | Literal["root"] | None = None
    writes: list[str] = Field(default_factory=list)
    read_only_root: bool = Field(default=True, alias="readOnlyRoot")
    why: str = ""
    instead: str = ""

    @property
    def non_root_user(self) -> int | None:
        return self.user if isinstance(self.user, int) and self.user != 0 else None


class ImageFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    images: list[ImageFacts] = Field(default_factory=list)


def repository(image: str) -> str:
    """`docker.io/library/nginx:1.27@sha256:…` → `nginx`: the name data/images.yaml matches."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    if ":" in name[slash + 1:]:
        name = name[:name.rfind(":")]
    for prefix in ("docker.io/", "index.docker.io/"):
        name = name.removeprefix(prefix)
    return name.removeprefix("library/")


def load(path: Path) -> list[ImageFacts]:
    """Entries of one images file; a broken file raises ValueError naming it."""
    try:
        docs = [d for d in load_yaml_all(path.read_text(encoding="utf-8")) if d]
        return [entry for doc in docs for entry in ImageFile.model_validate(doc).images]
    except Exception as exc:  # yaml and pydantic errors alike
        raise ValueError(f"{path}: {exc}") from exc


@lru_cache(maxsize=1)
def _table(user_file: Path) -> dict[str, ImageFacts]:
    entries = load(BUILTIN) + (load(user_file) if user_file.is_file() else [])
    return {name: entry for entry in entries for name in entry.match}


def facts(image: str | None) -> ImageFacts | None:
    """What data/images.yaml (and the user's file) say about `image`, if anything."""
    if not image:
        return None
    return _table(config_dir() / "images.yaml").get(repository(image))
