"""Native YAML loaders next to ours: do they read manifests as kubectl does, and how fast?

    pip install yaml-rs rapidyaml   # into a throwaway venv with kspm-tui; ryaml is a dependency
    python bench/yaml_loaders.py [DIR ...]

Semantics: every document of every YAML file under DIRs (default: tests/ and the 1k bench
cluster) is loaded by each candidate and compared, type for type, with `kspm_tui.yamlio` (go-yaml
v2 as kubectl reads it: `yes`/`on` booleans, `0755` octal, `1e3` an integer, keys as strings).
The hybrid the scan uses (`kspm_tui.yamlnative`: ryaml where provably the same, yamlio
otherwise) is compared on errors and their lines too, and its share read by ryaml is counted.
Speed: CPU time with the collector off over the 1k bench cluster (`--speed DIR` for another),
next to the stock `CSafeLoader` (the floor), yamlio and the hybrid. rapidyaml has no
YAML→Python loader: its parse is timed, plus a Python walk building dicts of strings (no type
resolution yet) as a lower bound of what a loader on it would cost. Results are printed;
bench/README.md records them.
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

from kspm_tui import yamlnative  # noqa: E402
from kspm_tui.sources.files import parse_documents  # noqa: E402
from kspm_tui.yamlio import ParseFailure, RawDocument, load_document, split_documents  # noqa: E402


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
    for module, name in (("yaml_rs", "yaml-rs"), ("ryaml", "ryaml (alone)")):
        try:
            found[name] = importlib.import_module(module).loads
        except ImportError:
            print(f"{name}: not installed", file=sys.stderr)
    return found


def semantics(loaders: dict[str, Callable[[str], Any]], roots: list[Path]) -> dict[str, list[int]]:
    """Per loader: [documents read the same, documents read otherwise (or failing)]; for the
    hybrid, errors count too, and a third figure is how many documents ryaml read."""
    hybrid = "kspm_tui.yamlnative (hybrid)"
    tally = {name: [0, 0] for name in loaders} | {hybrid: [0, 0, 0]}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix not in (".yaml", ".yml") or not path.is_file():
                continue
            try:
                text = path.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError:
                continue
            for doc in split_documents(text):
                ours = load_document(doc)
                same = reading(yamlnative.load_document(doc)) == reading(ours)
                tally[hybrid][0 if same else 1] += 1
                if not same:
                    print(f"  hybrid differs: {path} document {doc.index}", file=sys.stderr)
                tally[hybrid][2] += native(doc)
                if isinstance(ours, ParseFailure):
                    continue
                for name, load in loaders.items():
                    try:
                        same = strict(load(doc.text)) == strict(ours)
                    except Exception:  # noqa: BLE001 - a loader failing where ours reads is a difference
                        same = False
                    tally[name][0 if same else 1] += 1
    return tally


def reading(value: Any) -> Any:
    return ("error", value.message, value.line) if isinstance(value, ParseFailure) else strict(value)


def native(doc: RawDocument) -> bool:
    try:
        yamlnative.read_natively(doc.text)
    except yamlnative.NotNative:
        return False
    return True


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
           "kspm_tui.yamlio": cpu(lambda: [[load_document(d) for d in split_documents(t)] for t in texts]),
           "kspm_tui.yamlnative (hybrid, the scan's parse_documents)":
               cpu(lambda: [parse_documents(t) for t in texts])}
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
    parser.add_argument("--speed", type=Path,
                        help="manifests to time the loaders on (default: the 1k cluster)")
    args = parser.parse_args(argv)
    manifests = args.speed or generate.ensure(1000) / "manifests"
    loaders = candidates()
    print("semantics (documents read as kubectl reads them / otherwise):")
    for name, (same, other, *natively) in semantics(loaders, args.dirs or [ROOT / "tests", manifests]).items():
        share = f" ({natively[0]} read by ryaml)" if natively else ""
        print(f"  {name:<28} {same:>6} same {other:>6} different{share}")
    print(f"speed, CPU s with the collector off, {manifests}:")
    timings = speed(loaders, manifests)
    floor = timings["CSafeLoader (floor)"]
    for name, seconds in timings.items():
        print(f"  {name:<56} {seconds:>6.2f} s  {seconds / floor:>5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
