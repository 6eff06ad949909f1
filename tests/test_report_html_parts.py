"""Parts of the HTML report without a browser: SVG pictures stay well-formed XML whatever the
names hold, and a report rendered from a result alone (no graph, history or plans: a library
caller, or `-o html` of a saved JSON result) still has every section and anchor."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser

from kspm_tui.graph.paths import AttackPath, Cut, ObjectRef, PathEdge
from kspm_tui.model import ScanResult
from kspm_tui.report import html
from kspm_tui.report.svg import path_diagram, trend_chart

HOSTILE = "web\x1b]0;pwned\x07<b>&\u202eevil"
SVG = "{http://www.w3.org/2000/svg}"


def hostile_path() -> AttackPath:
    node = f"Deployment/shop/{HOSTILE}"
    edges = [PathEdge(source="internet", target=f"Service/shop/{HOSTILE}", relation="routes to", evidence="<i>"),
             PathEdge(source=f"Service/shop/{HOSTILE}", target=node, relation="reaches", evidence="x"),
             PathEdge(source=node, target=f"ServiceAccount/shop/{HOSTILE}", relation="mounts token of",
                      evidence="automount"),
             PathEdge(source=f"ServiceAccount/shop/{HOSTILE}", target="ClusterRoleBinding/b", relation="bound by",
                      evidence="names it"),
             PathEdge(source="ClusterRoleBinding/b", target="cluster-admin", relation="allows", evidence="* *.*")]
    cut = Cut(action="automount", object=ObjectRef(kind="Deployment", namespace="shop", name=HOSTILE),
              description="stop mounting", cost=1, edge=2)
    return AttackPath(id="p", source=ObjectRef(kind="Deployment", namespace="shop", name=HOSTILE),
                      target="cluster-admin", target_label="cluster-admin", exposed=True, ingress_isolated=False,
                      egress_isolated=False, edges=edges, cut=cut)


def test_a_path_diagram_is_xml_with_its_cut_on_the_right_edge_and_names_escaped() -> None:
    svg = path_diagram(hostile_path(), "p0")
    root = ET.fromstring(svg)  # raises on anything not well-formed
    edges = root.findall(f"{SVG}g")
    cut = [g for g in edges if g.get("class") == "edge cut"]
    assert len(cut) == 1 and cut[0].find(f"{SVG}title").text.startswith("mounts token of")
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text")) + " ".join(
        t.text or "" for t in root.iter(f"{SVG}title"))
    assert "\x1b" not in svg and "\u202e" not in svg and "<b>" not in svg
    assert "\\x1b]0;pwned\\x07<b>&\\u202eevil" in texts  # shown, as text
    assert len([g for g in edges if g.get("class") == "node"]) == 6
    ids = re.findall(r'id="([^"]+)"', svg)
    assert ids and all(i.startswith("p0-") for i in ids)  # unique within a page of several diagrams


def test_trend_panels_are_xml_for_one_scan_and_for_many() -> None:
    one = [(datetime(2026, 1, 1, tzinfo=UTC), 70, {"high": 3})]
    many = one + [(datetime(2026, 1, d, tzinfo=UTC), 70 + d, {"high": 3 - d % 3, "low": d}) for d in range(2, 9)]
    for points in (one, many):
        panels = re.findall(r"<svg\b.*?</svg>", trend_chart(points), flags=re.DOTALL)
        assert len(panels) == 2
        score, counts = (ET.fromstring(p) for p in panels)
        assert len(score.findall(f"{SVG}circle")) == len(points)
        assert len(counts.findall(f"{SVG}circle")) == 5 * len(points)  # one series per severity
        assert len(score.findall(f"{SVG}polyline")) == (len(points) > 1)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])


def test_a_report_from_a_result_alone_has_every_section_and_anchor(run_cli) -> None:
    result = ScanResult.model_validate(json.loads(run_cli("scan", "--demo", "-o", "json", "--no-history").stdout))
    page = html.render(result)
    links = _Links()
    links.feed(page)
    assert len(links.ids) == len(set(links.ids))
    assert {h[1:] for h in links.hrefs} <= set(links.ids)
    for key, _ in html.SECTIONS:
        assert f'id="{key}"' in page
    assert "The first scan of this target" in page and "No fix plan" in page
    # without the graph, the attack path is told in words (its finding's message)
    assert "internet → Ingress/ci/jenkins → Service/ci/jenkins" in page
