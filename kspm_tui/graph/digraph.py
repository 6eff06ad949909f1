"""A small directed graph for attack paths: labelled nodes, edges carrying their data, BFS.

Attack paths need adjacency, edge data and a breadth-first search; networkx did that and cost
a quarter of the scan's import time. Iteration is insertion order everywhere, as networkx's
`DiGraph` and `single_source_shortest_path`, so among equally short paths the same one is
chosen as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class DiGraph:
    """Nodes (with a display label) and directed edges (with a dict of data)."""

    __slots__ = ("labels", "succ", "cuts")

    def __init__(self) -> None:
        self.labels: dict[str, str] = {}
        self.succ: dict[str, dict[str, dict[str, Any]]] = {}  # node → successor → edge data
        self.cuts: dict[tuple[Any, Any], list[tuple[str, str]]] = {}  # (cut, object) → edges it removes

    def add_node(self, node: str, label: str) -> None:
        self.labels[node] = label
        self.succ.setdefault(node, {})

    def add_edge(self, a: str, b: str, **data: Any) -> None:
        self.succ.setdefault(a, {})[b] = data
        self.succ.setdefault(b, {})

    def has_edge(self, a: str, b: str) -> bool:
        return b in self.succ.get(a, ())

    def successors(self, node: str) -> Iterator[str]:
        return iter(self.succ[node])


def shortest_paths(g: DiGraph, source: str) -> dict[str, list[str]]:
    """Every node reachable from `source` → one shortest path to it (source included),
    in breadth-first discovery order; the first-found path wins a tie."""
    paths = {source: [source]}
    level = [source]
    while level:
        following = []
        for node in level:
            for succ in g.succ[node]:
                if succ not in paths:
                    paths[succ] = [*paths[node], succ]
                    following.append(succ)
        level = following
    return paths
