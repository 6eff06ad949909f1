"""Native YAML loaders next to ours: do they read manifests as kubectl does, and how fast?

    pip install yaml-rs ryaml rapidyaml   # into a throwaway venv with kspm-tui; never a dependency
    python bench/yaml_loaders.py [DIR ...]

Semantics: every document of every YAML file under DIRs (default: tests/ and the 1k bench
cluster) is loaded by each candidate and compared, type for type, with `kspm_tui.yamlio` (go-yaml
v2 as kubectl reads it: `yes`/`on` booleans, `0755` octal, `1e3` an integer, keys as strings).
Speed: CPU time with the collector off over the 1k bench cluster, next to the stock
`CSafeLoader` (the floor) and today's loader. rapidyaml has no YAML→Python loader: its parse is
timed, plus a Python walk building dicts of strings (no type resolution yet) as a lower bound
of what a loader on it would cost. Results are printed; bench/README.md records them.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402

from kspm_tui.sources.files import parse_documents  # noqa: E402
from kspm_tui.yamlio import split_documents  # noqa: E402


def strict(value: Any) -> Any:
    """A value with every scalar's type spelt out: True is not 1, 1.0 is not 1."""
    if isinstance(value, dict):
        return {"dict": [(strict(k), strict(v)) for k, v in value.items()]}
    if isinstance(value, list):
        return {"list": [strict(v) for v in value]}
    return (type(value).__name__, repr(value))


def candidates() -> dict[str, Callable[[str], Any]]:
    """Installed loaders, each as text → Python value."""
    found: dict[str, Callable[[str], Any]] = {}
    for module, name in (("yaml_rs", "yaml-rs"), ("ryaml", "ryaml")):
        try:
            found[name] = importlib.import_module(module).loads
        except ImportError:
            print(f"{name}: not installed", file=sys.stderr)
    return found


def semantics(loaders: dict[str, Callable[[str], Any]], roots: list[Path]) -> dict[str, list[int]]:
    """Per loader: [documents read the same, documents read otherwise (or failing)]."""
    tally = {name: [0, 0] for name in loaders}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix not in (".yaml", ".yml") or not path.is_file():
                continue
            try:
                text = path.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError:
                continue
            chunks = {doc.index: doc.text for doc in split_documents(text)}
            for ours in parse_documents(text):
                if ours.error is not None:
                    continue
                for name, load in loaders.items():
                    try:
                        same = strict(load(chunks[ours.index])) == strict(ours.value)
                    except Exception:  # noqa: BLE001 - a loader failing where ours reads is a difference
                        same = False
                    tally[name][0 if same else 1] += 1
    return tally


def cpu(work: Callable[[], Any]) -> float:
    gc.disable()
    try:
        start = time.process_time()
        work()
        return time.process_time() - start
    finally:
        gc.enable()


def speed(loaders: dict[str, Callable[[str], Any]], manifests: Path) -> dict[str, float]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(manifests.glob("*.yaml"))]
    out = {"CSafeLoader (floor)": cpu(lambda: [list(yaml.load_all(t, Loader=yaml.CSafeLoader)) for t in texts]),
           "kspm_tui.yamlio (today)": cpu(lambda: [parse_documents(t) for t in texts])}
    for name, load in loaders.items():
        out[name] = cpu(lambda load=load: [load(t) for t in texts])
    try:
        import ryml
    except ImportError:
        print("rapidyaml: not installed", file=sys.stderr)
        return out
    datas = [t.encode() for t in texts]
    trees: list[Any] = []
    out["rapidyaml parse only"] = cpu(lambda: trees.extend(ryml.parse_in_arena(d) for d in datas))

    def walk(tree: Any, node: int) -> Any:
        if tree.is_map(node) or tree.is_seq(node):
            items, child = [], tree.first_child(node)
            while child != ryml.NONE:
                items.append((bytes(tree.key(child)).decode() if tree.is_map(node) else None, walk(tree, child)))
                child = tree.next_sibling(child)
            return dict(items) if tree.is_map(node) else [v for _, v in items]
        tree.is_val_quoted(node)  # what go-yaml resolution would have to ask of every scalar
        value = tree.val(node)
        return bytes(value).decode() if value is not None else None

    out["rapidyaml parse + Python walk (strings, no resolution)"] = (
        out["rapidyaml parse only"] + cpu(lambda: [walk(t, t.root_id()) for t in trees]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, help="YAML to compare (default: tests/ and the 1k cluster)")
    args = parser.parse_args(argv)
    manifests = generate.ensure(1000) / "manifests"
    loaders = candidates()
    print("semantics (documents read as kubectl reads them / otherwise):")
    for name, (same, other) in semantics(loaders, args.dirs or [ROOT / "tests", manifests]).items():
        print(f"  {name:<12} {same:>6} same {other:>6} different")
    print(f"speed, CPU s with the collector off, {manifests}:")
    timings = speed(loaders, manifests)
    floor = timings["CSafeLoader (floor)"]
    for name, seconds in timings.items():
        print(f"  {name:<56} {seconds:>6.2f} s  {seconds / floor:>5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
