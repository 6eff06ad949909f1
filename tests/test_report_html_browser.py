"""The HTML report in a real browser: headless Chromium (Debian's package) driven by Playwright.

One report is built the way a user builds it: a first scan saved to history, then a second scan
of the same target (one Pod removed, a hostile image and a very long name added, an exceptions
file) written with `-o html --output`. The tests read what a team lead and an auditor see: no
console errors, nothing fetched, no sideways scrolling at 1280 px, a filter that narrows the
list (and a full list without JavaScript), anchors that resolve, a copy button that copies the
CLI's own command, SVG that is XML, and a printed PDF whose first page is the cover.

`KSPM_UPDATE_SCREENSHOTS=1` writes the README's screenshots (docs/screenshots/) from these pages.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.browser import ARGS, CHROMIUM, requires_chromium
from tests.conftest import FIXTURES, ROOT

REPORTS = (FIXTURES / "reports").relative_to(ROOT)  # relative: the screenshots show no local path
SCREENSHOTS = ROOT / "docs" / "screenshots"
WIDTH = 1280


@dataclass
class Report:
    path: Path
    html: str
    result: dict  # the same scan as JSON
    env: dict[str, str]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kspm_tui", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    base = tmp_path_factory.mktemp("html-report")
    (base / "config").mkdir()
    (base / "config" / "config.yaml").write_text("annotation_exceptions: {allow_critical: true}\n")
    env = {**os.environ, "KSPM_TUI_CONFIG_DIR": str(base / "config"), "KSPM_TUI_DATA_DIR": str(base / "data")}
    shop = str(REPORTS / "shop.yaml")
    first = _cli(env, "scan", "--demo", shop, str(REPORTS / "html" / "before.yaml"), "-o", "json",
                 "--output", str(base / "first.json"))
    assert first.returncode == 0, first.stderr
    second = ("scan", "--demo", shop, str(REPORTS / "html" / "after.yaml"), str(REPORTS / "hostile.yaml"),
              "--exceptions", str(REPORTS / "exceptions.yaml"))
    page = base / "report.html"
    res = _cli(env, *second, "-o", "html", "--output", str(page))
    assert res.returncode == 0, res.stderr
    result = json.loads(_cli(env, *second, "-o", "json", "--no-history").stdout)
    return Report(page, page.read_text(encoding="utf-8"), result, env)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@dataclass
class Opened:
    page: object
    errors: list[str]
    requests: list[str]
    dialogs: list[str]


def open_report(browser, report: Report, *, javascript: bool = True, permissions: tuple[str, ...] = ()) -> Opened:
    context = browser.new_context(viewport={"width": WIDTH, "height": 900}, java_script_enabled=javascript)
    if permissions:
        context.grant_permissions(list(permissions))
    page = context.new_page()
    opened = Opened(page, [], [], [])
    page.on("console", lambda m: opened.errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: opened.errors.append(str(e)))
    page.on("request", lambda r: opened.requests.append(r.url))
    page.on("dialog", lambda d: (opened.dialogs.append(d.message), d.dismiss()))
    page.goto(report.path.as_uri())
    return opened


def screenshot(page, name: str, **kwargs: object) -> None:
    if os.environ.get("KSPM_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), **kwargs)


def failing(report: Report) -> list[dict]:
    return [f for f in report.result["findings"] if f["status"] == "fail"]


def visible_findings(page) -> int:
    return page.locator("article.finding:visible").count()


def reset_filters(page) -> None:
    """Reset the form and wait until the list is whole again: the page filters after the reset
    event's default action has cleared the fields (on the next tick), not during the click."""
    page.click("#filters button[type=reset]")
    page.wait_for_function("document.getElementById('shown').textContent.startsWith('all ')")


# -- first screen -------------------------------------------------------------------------------
@requires_chromium
def test_the_first_screen_answers_how_bad_and_what_first(browser, report: Report) -> None:
    opened = open_report(browser, report)
    page = opened.page
    assert opened.errors == [] and opened.dialogs == []
    assert all(url.startswith("file://") for url in opened.requests), opened.requests  # nothing fetched
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH  # no sideways scrolling
    summary = report.result["summary"]
    first_screen = page.locator("#summary")
    assert first_screen.bounding_box()["y"] < 300
    score = page.locator(".tile.score").inner_text()
    assert f"{summary['score']}/100" in score.replace("\n", "")
    assert "capped at 20 (pass rate" in score and "K8S-PATH-INTERNET-CLUSTER-ADMIN" in score
    for severity, n in summary["by_severity"].items():
        assert page.locator(f".tile.{severity}").inner_text().split() == [str(n), severity]
    # the worst attack path is drawn, with its cut marked on the edge the cut removes
    figure = page.locator("figure.path").first
    assert figure.locator("svg .node").count() == 8
    assert figure.locator("svg .edge.cut").count() == 1
    assert "ClusterRoleBinding" in figure.locator("svg .edge.cut title").text_content()
    assert "move the grant of ClusterRoleBinding/jenkins-cluster-admin" in figure.inner_text()
    # fix plans: a safe verdict and a copy button each, inside the first two screens
    plans = page.locator("ol.plans > li")
    assert plans.count() >= 3
    assert plans.first.locator(".verdict.safe").count() == 1 and plans.first.locator("button.copy").count() == 1
    assert plans.first.bounding_box()["y"] < 2 * 900
    screenshot(page, "report-first-screen.png")


@requires_chromium
def test_hostile_text_is_shown_as_text_and_long_names_wrap(browser, report: Report) -> None:
    opened = open_report(browser, report)
    page = opened.page
    assert opened.dialogs == [] and opened.errors == []
    text = page.locator("#findings").inner_text()
    assert "image <script>alert(1)</script>|=cmd:latest uses the moving tag :latest" in text
    long = page.locator("article.finding", has_text="a" * 63 + ".").first
    box = long.bounding_box()
    assert box["x"] + box["width"] <= WIDTH and page.evaluate("document.documentElement.scrollWidth") <= WIDTH


# -- filter -------------------------------------------------------------------------------------
@requires_chromium
def test_the_filter_narrows_the_list(browser, report: Report) -> None:
    page = open_report(browser, report).page
    total = len(failing(report))
    assert visible_findings(page) == total
    assert page.locator("#shown").inner_text() == f"all {total} findings shown"

    page.select_option("#filters select[name=sev]", "critical")
    critical = [f for f in failing(report) if f["severity"] == "critical"]
    assert visible_findings(page) == len(critical) < total
    assert page.locator("#shown").inner_text() == f"{len(critical)} of {total} findings shown"

    reset_filters(page)
    page.select_option("#filters select[name=ns]", "payments")
    assert visible_findings(page) == len([f for f in failing(report) if f["namespace"] == "payments"])
    assert page.locator(".ns-group:visible").count() == 1

    reset_filters(page)
    page.fill("#filters input[name=q]", "HOSTILE")  # text matches case-insensitively
    hostile = [f for f in failing(report) if f["name"] == "hostile"]
    assert visible_findings(page) == len(hostile) > 0
    page.select_option("#filters select[name=rule]", "K8S-IMAGE-MUTABLE-TAG")
    assert visible_findings(page) == 1
    screenshot(page, "report-findings-filtered.png")

    reset_filters(page)
    assert visible_findings(page) == total
    page.click(".tile.high")  # a severity tile drills into the list, filtered to that severity
    assert visible_findings(page) == len([f for f in failing(report) if f["severity"] == "high"])
    assert page.evaluate("location.hash") == "#findings"


@requires_chromium
def test_without_javascript_every_finding_is_listed(browser, report: Report) -> None:
    page = open_report(browser, report, javascript=False).page
    assert visible_findings(page) == len(failing(report))
    assert page.locator("#filters").is_hidden()  # no controls that would do nothing


# -- anchors, copy --------------------------------------------------------------------------------
@requires_chromium
def test_every_anchor_resolves(browser, report: Report) -> None:
    page = open_report(browser, report).page
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert len(hrefs) > 50
    assert all(h.startswith("#") for h in hrefs), [h for h in hrefs if not h.startswith("#")]
    missing = page.evaluate("hrefs => hrefs.filter(h => !document.getElementById(decodeURIComponent(h.slice(1))))",
                            sorted(set(hrefs)))
    assert missing == []
    ids = page.eval_on_selector_all("[id]", "els => els.map(e => e.id)")
    assert len(ids) == len(set(ids)), "duplicate ids"
    # drilling from the namespace heat table lands on that namespace's findings
    page.click("#namespaces table.heat a >> text=payments")
    target = page.evaluate("location.hash")
    assert page.locator(target).get_attribute("data-ns") == "payments"


@requires_chromium
def test_the_copy_button_copies_the_command_the_cli_prints(browser, report: Report) -> None:
    page = open_report(browser, report, permissions=("clipboard-read", "clipboard-write")).page
    plan = page.locator("ol.plans > li").first
    ref = plan.locator("b code").inner_text()  # "StatefulSet monitoring/prometheus-server"
    page.evaluate("""() => {  // record what the button says, however late this test gets to look
        const b = document.querySelector('ol.plans button.copy');
        window.labels = [];
        new MutationObserver(() => window.labels.push(b.textContent)).observe(b, {childList: true});
    }""")
    plan.locator("button.copy").click()
    copied = page.evaluate("""async () => {
        for (let i = 0; i < 200 && !(await navigator.clipboard.readText()); i++) await new Promise(r => setTimeout(r, 50));
        return navigator.clipboard.readText();
    }""")
    assert "Copied" in page.evaluate("window.labels")  # the user is told
    kind, _, rest = ref.partition(" ")
    namespace, _, name = rest.partition("/")
    script = _cli(report.env, "fix", f"{kind.lower()}/{name}", "-n", namespace, "--demo",
                  str(REPORTS / "shop.yaml"), str(REPORTS / "html" / "after.yaml"), str(REPORTS / "hostile.yaml"))
    assert script.returncode == 0, script.stderr
    assert copied.startswith("kubectl patch ") and copied in script.stdout.splitlines()


# -- pictures, print -------------------------------------------------------------------------------
def test_svg_charts_are_well_formed_xml(report: Report) -> None:
    svgs = re.findall(r"<svg\b.*?</svg>", report.html, flags=re.DOTALL)
    assert len(svgs) >= 4  # attack paths and the two trend panels
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox")
    trend = [ET.fromstring(s) for s in svgs if 'class="trend"' in s]
    assert len(trend) == 2
    points = trend[0].findall("{http://www.w3.org/2000/svg}circle")
    assert len(points) == 2  # two scans of this target


@requires_chromium
def test_the_trend_says_what_is_new_and_what_was_resolved(browser, report: Report) -> None:
    page = open_report(browser, report).page
    trend = page.locator("#trend")
    assert "2 scan(s) of this target" in trend.inner_text()
    resolved = trend.locator(".delta > div").nth(1).inner_text()
    new = trend.locator(".delta > div").nth(0).inner_text()
    assert "Pod/shop/legacy" in resolved and "Pod/shop/legacy" not in new
    assert "Pod/shop/hostile" in new and "K8S-IMAGE-MUTABLE-TAG" in new
    screenshot(page.locator("#trend"), "report-trend.png")


def _pdf_pages(page) -> list[str]:
    reader = PdfReader(BytesIO(page.pdf(format="A4", print_background=True)))
    return [unicodedata.normalize("NFKC", p.extract_text()) for p in reader.pages]


@requires_chromium
def test_printed_to_pdf_the_first_page_is_the_audit_cover(browser, report: Report) -> None:
    page = open_report(browser, report).page
    pages = _pdf_pages(page)
    cover = pages[0]
    r = report.result
    for expected in ("Security posture report: demo", f"Cluster demo (id {r['cluster']['id']})",
                     "Scope demo, all namespaces", "Rule pack kspm-tui", f"{len(r['rules'])} rules (digest ",
                     "CIS Kubernetes Benchmark", "Pod Security Standards: Restricted", "Exceptions in force 2",
                     "envoy needs privileged mode for the transparent proxy (ticket SEC-12) — owner team-network, "
                     "until 2099-12-31"):
        assert expected in cover.replace("\n", " "), (expected, cover)
    assert re.search(r"Date \d{4}-\d\d-\d\d \d\d:\d\d UTC", cover)
    assert "Top attack paths" not in cover and "Copy" not in cover
    # each section starts a page of its own
    starts = [p.splitlines()[0] if p.strip() else "" for p in pages]
    for heading in ("Trend", "Posture by namespace", "Posture by framework", "Failing rules", "Failing findings",
                    "Accepted risks (2)", "Coverage"):
        assert any(s.startswith(heading) for s in starts), (heading, starts)
    assert not any("Copy" in p for p in pages)  # buttons and the filter are not printed
    page.emulate_media(media="print")
    screenshot(page, "report-print-cover.png")
