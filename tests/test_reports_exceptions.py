"""Accepted risks: loading, matching (property-based), expiry, annotations, writing."""

from __future__ import annotations

from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kspm_tui.config import AnnotationExceptions, Config
from kspm_tui.model import AcceptAnnotation, Category, Finding, Severity, Status
from kspm_tui.scan import ScanSettings, scan_paths
from kspm_tui.triage.acceptance import (
    AcceptedRisk,
    accept_risks,
    add_exception,
    annotation_exceptions,
    apply_exceptions,
    exception_for,
    list_exceptions,
    load_exceptions,
    load_file,
    parse_annotation,
)

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
SHOP = str(FIXTURES / "shop.yaml")
TODAY = date(2026, 6, 1)
# The fixture's debug pod accepts its own critical finding: these tests are about how
# exceptions apply, so they opt in (the bounds are tested in test_hostile_input.py).
ALLOW = AnnotationExceptions(allow_critical=True)


def settings_for(*files: Path, only: str = "K8S-PRIVILEGED") -> ScanSettings:
    return ScanSettings(exception_files=list(files), only=[only], config=Config(annotation_exceptions=ALLOW))


def by_place(result) -> dict[tuple[str, str | None], Finding]:
    return {(f.name, f.container): f for f in result.findings}


# -- through a real scan ---------------------------------------------------------------------
def test_container_exception_accepts_only_that_container() -> None:
    result = scan_paths([SHOP], settings_for(FIXTURES / "exceptions.yaml"))
    found = by_place(result)
    sidecar, app = found[("web", "sidecar")], found[("web", "app")]
    assert sidecar.status is Status.accepted
    assert sidecar.acceptance.owner == "team-network" and sidecar.acceptance.expires == date(2099, 12, 31)
    assert "SEC-12" in sidecar.acceptance.reason and sidecar.acceptance.origin.endswith("exceptions.yaml entry 1")
    assert app.status is Status.fail and app.acceptance is None
    # accepted findings stay in the result and count as accepted everywhere
    stat = next(s for s in result.rule_stats if s.rule == "K8S-PRIVILEGED")
    assert (stat.failed, stat.accepted) == (3, 2)  # sidecar + the annotated debug pod
    assert result.summary.total == 1 and result.summary.by_status == {"fail": 1, "accepted": 2}


def test_annotation_accepts_its_object() -> None:
    result = scan_paths([SHOP], settings_for())
    debug = by_place(result)[("debug", "shell")]
    assert debug.status is Status.accepted
    assert debug.acceptance.origin == "annotation on Pod/shop/debug"
    assert debug.acceptance.reason.startswith("short-lived debugging pod")


def test_expired_exception_stops_applying_and_says_so() -> None:
    result = scan_paths([SHOP], settings_for(FIXTURES / "exceptions-mixed.yaml"))
    app = by_place(result)[("web", "app")]
    assert app.status is Status.fail
    assert app.message.endswith("(exception expired on 2021-03-01)")
    assert app.acceptance is not None and app.acceptance.expired


def test_invalid_entries_are_reported_with_file_and_entry_and_the_rest_applies(tmp_path: Path) -> None:
    risks, errors = load_file(FIXTURES / "exceptions-mixed.yaml")
    assert len(risks) == 1
    assert [(Path(e.file).name, e.document) for e in errors] == [
        ("exceptions-mixed.yaml", 2), ("exceptions-mixed.yaml", 3)]
    assert "reason" in errors[0].message and "entry 2 (K8S-PRIVILEGED)" in errors[0].message
    broken = tmp_path / "broken.yaml"
    broken.write_text("exceptions:\n  - rule: [K8S-A\n")
    risks, errors = load_file(broken)
    assert risks == [] and "invalid YAML" in errors[0].message and errors[0].file == str(broken)
    # a scan with a broken file still scans and still applies annotations
    result = scan_paths([SHOP], settings_for(broken))
    assert result.exception_errors and len(result.findings) == 3
    assert by_place(result)[("debug", "shell")].status is Status.accepted


def test_missing_exceptions_file_is_an_error_but_missing_user_file_is_not(tmp_path: Path) -> None:
    risks, errors = load_exceptions([tmp_path / "nope.yaml"])
    assert risks == [] and errors[0].message == "exceptions file not found"


def test_user_exceptions_file_in_config_dir_applies(user_dirs: Path) -> None:
    config = user_dirs / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "exceptions.yaml").write_text((FIXTURES / "exceptions.yaml").read_text())
    result = scan_paths([SHOP], settings_for())
    assert by_place(result)[("web", "sidecar")].status is Status.accepted


def test_skip_and_only_narrow_rules() -> None:
    rules_dir = FIXTURES / "rules"
    both = scan_paths([SHOP], ScanSettings(rules_dirs=[rules_dir], only=["K8S-PRIVILEGED", "K8S-TEST-*"]))
    assert {f.rule for f in both.findings} == {"K8S-PRIVILEGED", "K8S-TEST-LATEST-TAG"}
    skipped = scan_paths([SHOP], ScanSettings(rules_dirs=[rules_dir], only=["K8S-PRIVILEGED", "K8S-TEST-*"],
                                              skip=["k8s-privileged"]))
    assert {f.rule for f in skipped.findings} == {"K8S-TEST-LATEST-TAG"}
    category = scan_paths([SHOP], ScanSettings(rules_dirs=[rules_dir], only=["image hygiene"]))
    selected = {s.rule for s in category.rule_stats}
    assert "K8S-TEST-LATEST-TAG" in selected and "K8S-PRIVILEGED" not in selected
    assert {f.category.value for f in category.findings} == {"Image hygiene"}
    typo = scan_paths([SHOP], ScanSettings(only=["K8S-PRIVILEGD"]))
    assert typo.rule_errors and "no rule or category" in typo.rule_errors[0].message


def test_annotation_parsing() -> None:
    def parse(value: str) -> tuple[AcceptedRisk | None, list[str]]:
        return parse_annotation(AcceptAnnotation(kind="Deployment", namespace="ns", name="web", value=value), ALLOW)

    risk, problems = parse("K8S-A,k8s-b  needs it")
    assert isinstance(risk, AcceptedRisk) and risk.rules == ["K8S-A", "K8S-B"] and risk.reason == "needs it"
    assert problems == []
    assert "needs a reason" in parse("K8S-A")[1][0]
    assert "must start with rule ids" in parse("because")[1][0]
    _, errors = annotation_exceptions([AcceptAnnotation(kind="Pod", namespace="x", name="p", value="K8S-A")])
    assert "Pod/x/p" in errors[0].message


def test_add_exception_round_trips_and_keeps_existing_entries(tmp_path: Path) -> None:
    result = scan_paths([SHOP], settings_for())
    app = by_place(result)[("web", "app")]
    path = tmp_path / "exceptions.yaml"
    path.write_text((FIXTURES / "exceptions.yaml").read_text())
    risk = exception_for(app, reason="rewrite pending", owner="alice", expires=date(2099, 1, 1), today=TODAY)
    add_exception(risk, path)
    risks, errors = load_file(path)
    assert errors == [] and len(risks) == 2
    assert risks[1].container == "app" and risks[1].created == TODAY and risks[1].owner == "alice"
    # the TUI re-applies every source after writing: the files and the scanned annotations
    accept_risks(result, ScanSettings(exception_files=[path], user_exceptions=False, config=Config(annotation_exceptions=ALLOW)),
                 today=TODAY)
    assert by_place(result)[("web", "app")].status is Status.accepted
    assert result.summary.total == 0 and result.summary.by_status == {"accepted": 3}


def test_add_exception_refuses_to_overwrite_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "exceptions.yaml"
    path.write_text("exceptions: [\n")
    risk = AcceptedRisk(rules=["K8S-A"], reason="r")
    try:
        add_exception(risk, path)
    except ValueError as exc:
        assert str(path) in str(exc)
    else:
        raise AssertionError("a broken exceptions file was overwritten")
    assert path.read_text() == "exceptions: [\n"


def test_listing_states() -> None:
    result = scan_paths([SHOP], settings_for())
    risks = [AcceptedRisk(rules=["K8S-PRIVILEGED"], name="web", reason="a"),
             AcceptedRisk(rules=["K8S-PRIVILEGED"], name="web", reason="b", expires=date(2020, 1, 1)),
             AcceptedRisk(rules=["K8S-PRIVILEGED"], name="gone", reason="c")]
    states = [(s.state, s.matches) for s in list_exceptions(risks, result, TODAY)]
    assert states == [("active", 2), ("expired", 2), ("unmatched", 0)]


def test_reapplying_is_idempotent() -> None:
    result = scan_paths([SHOP], settings_for(FIXTURES / "exceptions-mixed.yaml"))
    risks, _ = load_file(FIXTURES / "exceptions-mixed.yaml")
    before = result.model_dump()
    apply_exceptions(result, risks + annotation_exceptions(result.inventory.accept_annotations, ALLOW)[0])
    assert result.model_dump() == before
    apply_exceptions(result, [])
    assert all(f.status is Status.fail and f.acceptance is None for f in result.findings)
    assert not any("expired" in f.message for f in result.findings)


# -- properties ------------------------------------------------------------------------------
NAMES = st.sampled_from(["web", "web-1", "api", "db", "debug", "x"])
CONTAINERS = st.one_of(st.none(), st.sampled_from(["app", "sidecar", "init", "shell"]))
RULES = st.sampled_from(["K8S-PRIVILEGED", "K8S-HOST-PID", "K8S-HOST-NETWORK", "K8S-RBAC-ADMIN"])
NAMESPACES = st.one_of(st.none(), st.sampled_from(["shop", "shop-dev", "kube-system"]))
KINDS = st.sampled_from(["Deployment", "Pod", "DaemonSet", "ClusterRoleBinding"])
GLOBS = st.one_of(st.just("*"), NAMES, NAMES.map(lambda n: n[:2] + "*"), st.just("w?b"))

findings = st.builds(
    lambda rule, ns, kind, name, container: Finding(
        rule=rule, title="t", severity=Severity.high, status=Status.fail, category=Category.pod_security,
        cluster="c1", kind=kind, namespace=ns, name=name, container=container, message="m"),
    RULES, NAMESPACES, KINDS, NAMES, CONTAINERS)
risks = st.builds(
    lambda rules, ns, kind, name, container, expires: AcceptedRisk(
        rules=rules, namespace=ns, kind=kind, name=name, container=container, reason="r", expires=expires),
    st.lists(st.one_of(RULES, st.just("K8S-HOST-*")), min_size=1, max_size=2),
    st.one_of(st.just("*"), st.sampled_from(["shop", "shop*", "kube-system"])),
    st.one_of(st.just("*"), KINDS), GLOBS, st.one_of(st.none(), st.sampled_from(["app", "sidecar", "s*"])),
    st.one_of(st.none(), st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1))))


def _covers(risk: AcceptedRisk, f: Finding) -> bool:
    """The contract, field by field, written independently of the matcher's code."""
    if risk.container is not None and (f.container is None or not fnmatchcase(f.container, risk.container)):
        return False
    if f.namespace is None and risk.namespace != "*":
        return False
    return (any(fnmatchcase(f.rule, r) for r in risk.rules) and fnmatchcase(f.kind, risk.kind)
            and fnmatchcase(f.name, risk.name) and (f.namespace is None or fnmatchcase(f.namespace, risk.namespace)))


@settings(max_examples=300, deadline=None)
@given(st.lists(risks, max_size=6), st.lists(findings, min_size=1, max_size=8))
def test_accepted_only_by_an_active_exception_that_covers_it(risk_set, finding_set) -> None:
    from datetime import UTC, datetime

    from kspm_tui.model import ClusterInfo, ScanResult, Tool

    unique = list({f.fingerprint: f for f in finding_set}.values())
    result = ScanResult(tool=Tool(version="t"), cluster=ClusterInfo(id="c1", name="c1"),
                        started=datetime(2026, 1, 1, tzinfo=UTC), findings=[f.model_copy() for f in unique])
    apply_exceptions(result, risk_set, TODAY)
    assert len(result.findings) == len(unique)  # never hidden
    for f in result.findings:
        active = [r for r in risk_set if _covers(r, f) and not (r.expires and r.expires < TODAY)]
        assert (f.status is Status.accepted) == bool(active)
        if f.status is Status.accepted:
            assert f.acceptance.reason == "r" and not f.acceptance.expired


@settings(max_examples=200, deadline=None)
@given(findings, st.sampled_from(["app", "sidecar", "init", "shell"]))
def test_container_exception_never_leaks_to_other_containers_or_the_pod(finding, container) -> None:
    risk = AcceptedRisk(rules=[finding.rule], namespace=finding.namespace or "*", kind=finding.kind,
                        name=finding.name, container=container, reason="r")
    assert risk.selects(finding) == (finding.container == container)
    exact = exception_for(finding, reason="r", today=TODAY)
    assert exact.selects(finding)
    sibling = finding.model_copy(update={"container": "other", "fingerprint": ""})
    assert exact.selects(sibling) == (finding.container is None)
