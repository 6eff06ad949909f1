"""Inline SVG pictures for the HTML report: an attack path as nodes and edges (its cut marked)
and the score / severity trend of a target's saved scans.

Each picture is a standalone, well-formed XML `<svg>` element (tests parse it as XML); every
text from a cluster or a file is escaped here, and cut to fit its box with the full text kept
in a `<title>` tooltip.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from kspm_tui.graph.paths import INTERNET, AttackPath
from kspm_tui.model import Severity
from kspm_tui.textsafe import visible

SVG_NS = "http://www.w3.org/2000/svg"
SEVERITY_COLOURS = {Severity.critical: "#82071e", Severity.high: "#cf222e", Severity.medium: "#9a6700",
                    Severity.low: "#0969da", Severity.info: "#6e7781"}
CUT_COLOUR = "#cf222e"

# attack path layout: node boxes left to right, wrapping after PER_ROW
BOX_W, BOX_H, GAP_X, GAP_Y, PER_ROW, LABEL_CHARS = 164, 44, 34, 40, 4, 21


def _x(text: object) -> str:
    """Text for XML content or a double-quoted attribute, hidden characters shown as escapes."""
    return escape(visible(str(text)), quote=True)


def _fit(text: str, limit: int = LABEL_CHARS) -> str:
    """Cut in the middle, so both a name's start and its distinguishing end stay readable."""
    if len(text) <= limit:
        return text
    keep = limit - 1
    return text[: (keep + 1) // 2] + "…" + text[len(text) - keep // 2:]


def _node_lines(node: str, last: bool, path: AttackPath) -> tuple[str, str]:
    """(small heading, name) for a node: `Kind · namespace` over the name, the target by its label."""
    if node == INTERNET:
        return "entry", "internet"
    if last:
        return "target", path.target_label
    kind, sep, rest = node.partition("/")
    if not sep:
        return "", node
    namespace, sep, name = rest.partition("/")
    if sep:
        return f"{kind} · {namespace}", name
    name, sep, scope = rest.partition(" (")  # a role with the scope of its grant: "admin (in ci)"
    return (f"{kind} · {scope.rstrip(')')}", name) if sep else (kind, rest)


def _position(i: int) -> tuple[int, int]:
    row, col = divmod(i, PER_ROW)
    return 8 + col * (BOX_W + GAP_X), 8 + row * (BOX_H + GAP_Y)


def path_diagram(path: AttackPath, uid: str) -> str:
    """The path's nodes in reading order, wrapping after four; the cut edge red and dashed
    (`uid` keeps the arrow markers' ids unique in a page holding several diagrams)."""
    if not path.edges:
        return ""
    nodes = [path.edges[0].source] + [e.target for e in path.edges]
    rows = (len(nodes) + PER_ROW - 1) // PER_ROW
    width = 16 + min(len(nodes), PER_ROW) * BOX_W + (min(len(nodes), PER_ROW) - 1) * GAP_X
    height = 16 + rows * BOX_H + (rows - 1) * GAP_Y
    cut = path.cut.edge if path.cut is not None else None
    out = [f'<svg xmlns="{SVG_NS}" class="path-diagram" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="{_x(path.summary())}">',
           f'<defs><marker id="{uid}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#57606a"/></marker>'
           f'<marker id="{uid}-cut" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           f'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="{CUT_COLOUR}"/></marker></defs>']
    for i, edge in enumerate(path.edges):
        out.append(_edge(i, edge.relation, edge.evidence, i == cut, uid))
    for i, node in enumerate(nodes):
        x, y = _position(i)
        head, name = _node_lines(node, i == len(nodes) - 1, path)
        fill = "#ffebe9" if i == len(nodes) - 1 else "#f6f8fa"
        stroke = CUT_COLOUR if i == len(nodes) - 1 else "#8c959f"
        out.append(f'<g class="node"><title>{_x(node if i < len(nodes) - 1 else path.target_label)}</title>'
                   f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" stroke="{stroke}"/>'
                   f'<text x="{x + 8}" y="{y + 16}" font-size="10" fill="#57606a">{_x(_fit(head, 27))}</text>'
                   f'<text x="{x + 8}" y="{y + 33}" font-size="12" font-weight="600" fill="#1b1f24">'
                   f"{_x(_fit(name))}</text></g>")
    out.append("</svg>")
    return "".join(out)


def _edge(i: int, relation: str, evidence: str, is_cut: bool, uid: str) -> str:
    """An arrow from node i to node i+1: straight within a row, down and back at a wrap."""
    (x1, y1), (x2, y2) = _position(i), _position(i + 1)
    if y1 == y2:
        d = f"M{x1 + BOX_W} {y1 + BOX_H // 2}H{x2}"
        mid = (x1 + BOX_W + x2) / 2, y1 + BOX_H // 2
    else:
        turn = y1 + BOX_H + GAP_Y // 2
        d = f"M{x1 + BOX_W // 2} {y1 + BOX_H}V{turn}H{x2 + BOX_W // 2}V{y2}"
        mid = (x1 + BOX_W // 2 + x2 + BOX_W // 2) / 2, turn
    colour = CUT_COLOUR if is_cut else "#57606a"
    style = ' stroke-width="3" stroke-dasharray="5 3"' if is_cut else ' stroke-width="1.5"'
    marker = f"{uid}-cut" if is_cut else f"{uid}-arrow"
    mark = ""
    if is_cut:
        mx, my = mid
        mark = (f'<g class="cut-mark"><circle cx="{mx:.0f}" cy="{my:.0f}" r="8" fill="#fff" stroke="{CUT_COLOUR}" '
                f'stroke-width="2"/><path d="M{mx - 4:.0f} {my - 4:.0f}L{mx + 4:.0f} {my + 4:.0f}M{mx + 4:.0f} '
                f'{my - 4:.0f}L{mx - 4:.0f} {my + 4:.0f}" stroke="{CUT_COLOUR}" stroke-width="2"/>'
                f'<text x="{mx:.0f}" y="{my - 12:.0f}" font-size="10" font-weight="700" text-anchor="middle" '
                f'fill="{CUT_COLOUR}">cut</text></g>')
    return (f'<g class="edge{" cut" if is_cut else ""}"><title>{_x(relation)}: {_x(evidence)}</title>'
            f'<path d="{d}" fill="none" stroke="{colour}"{style} marker-end="url(#{marker})"/>{mark}</g>')


# trend chart layout
CHART_W, CHART_H, PAD_L, PAD_R, PAD_T, PAD_B = 640, 150, 40, 12, 12, 22


def trend_chart(points: list[tuple[datetime, int, dict[str, int]]]) -> str:
    """Score (0–100, left panel) and failing findings by severity (right panel) per scan, oldest
    first; scans are spaced evenly, with the first and last dates under the axis."""
    scores = [(i, score) for i, (_, score, _) in enumerate(points)]
    score_panel = _panel("posture score", [("score", "#1b1f24", scores)], 100, points)
    series = [(sev.value, SEVERITY_COLOURS[sev], [(i, counts.get(sev.value, 0)) for i, (_, _, counts) in enumerate(points)])
              for sev in Severity]
    top = max([1] + [n for _, _, values in series for _, n in values])
    counts_panel = _panel("failing findings by severity", series, top, points)
    return score_panel + counts_panel


def _panel(title: str, series: list[tuple[str, str, list[tuple[int, int]]]], top: int,
           points: list[tuple[datetime, int, dict[str, int]]]) -> str:
    n = len(points)
    inner_w, inner_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B

    def xy(i: int, v: int) -> tuple[float, float]:
        x = PAD_L + (inner_w / 2 if n == 1 else inner_w * i / (n - 1))
        return x, PAD_T + inner_h * (1 - v / top)

    out = [f'<svg xmlns="{SVG_NS}" class="trend" viewBox="0 0 {CHART_W} {CHART_H}" width="{CHART_W}" '
           f'height="{CHART_H}" role="img" aria-label="{_x(title)}"><title>{_x(title)}</title>']
    for frac in (0, 0.5, 1):
        y = PAD_T + inner_h * (1 - frac)
        out.append(f'<line x1="{PAD_L}" y1="{y:.1f}" x2="{CHART_W - PAD_R}" y2="{y:.1f}" stroke="#d0d7de"/>'
                   f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end" fill="#57606a">'
                   f"{round(top * frac)}</text>")
    for name, colour, values in series:
        coords = [xy(i, v) for i, v in values]
        if len(coords) > 1:
            line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            out.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for (x, y), (_, v) in zip(coords, values, strict=True):
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{_x(name)}: {v}</title></circle>')
    first, last = points[0][0], points[-1][0]
    out.append(f'<text x="{PAD_L}" y="{CHART_H - 6}" font-size="10" fill="#57606a">{first:%Y-%m-%d %H:%M}</text>')
    if n > 1:
        out.append(f'<text x="{CHART_W - PAD_R}" y="{CHART_H - 6}" font-size="10" text-anchor="end" '
                   f'fill="#57606a">{last:%Y-%m-%d %H:%M}</text>')
    out.append("</svg>")
    return "".join(out)
