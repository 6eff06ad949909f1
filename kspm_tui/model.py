"""Typed models shared by every stage: rules in, findings and scan results out.

These are the boundaries of the data flow (sources → snapshot → engine → result);
anything that crosses a module boundary or leaves the process is one of these.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# For models a table scan never validates on their own (findings are made with model_construct
# and checked inside ScanResult's schema; compliance, exceptions and rule tests only on their
# commands): their validator and serializer are built on first use instead of at import,
# start-up time `scan --demo` would pay for nothing (pydantic's public `defer_build`).
ON_USE = ConfigDict(defer_build=True)


class Severity(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"

    @property
    def rank(self) -> int:
        """Higher is worse; used for sorting and --fail-on thresholds."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.critical: 4,
    Severity.high: 3,
    Severity.medium: 2,
    Severity.low: 1,
    Severity.info: 0,
}


class Status(StrEnum):
    fail = "fail"
    passed = "pass"
    accepted = "accepted"
    not_assessable = "not-assessable"


class Scope(StrEnum):
    """What one evaluation of a rule looks at (and so what a finding is attached to)."""

    container = "container"  # every container of every pod template
    pod = "pod"  # every pod template (workload spec)
    object = "object"  # every object of `match.kinds`
    namespace = "namespace"  # every Namespace, with facts about what is in it
    cluster = "cluster"  # once per snapshot, with cluster-wide facts
    control_plane = "control-plane"  # a control-plane component's static Pod flags
    subject = "subject"  # every RBAC subject (User, Group, ServiceAccount) with its effective rights
    path = "path"  # every attack path, attached to the workload it starts from


class Category(StrEnum):
    pod_security = "Pod Security"
    rbac = "RBAC"
    network = "Network"
    resources = "Resources"
    images = "Image hygiene"
    control_plane = "Control plane"
    admission = "Admission"
    secrets = "Secrets"
    workload = "Workload hygiene"
    attack_path = "Attack paths"


class Match(BaseModel):
    """Narrows which objects a rule is evaluated on."""

    model_config = ConfigDict(extra="forbid")

    kinds: list[str] = Field(default_factory=list, description="object scope: kinds to evaluate")
    containers: list[str] = Field(
        default_factory=lambda: ["initContainers", "containers", "ephemeralContainers"],
        description="container scope: which container lists to evaluate",
    )
    component: str | None = Field(default=None, description="control-plane scope: e.g. kube-apiserver")
    system_namespaces: bool = Field(
        default=False, description="evaluate in system namespaces even without --include-system"
    )


class Remediation(BaseModel):
    """How to fix a failure. A patch is a strategic-merge fragment relative to the scope root.

    `patch` is static YAML; `patch_expression` is CEL that builds the fragment from the same
    variables as the check (for fixes that depend on the offending value). `guidance` is the
    honest text for what cannot be patched in place.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    patch: dict[str, Any] | None = None
    patch_expression: str | None = Field(default=None, alias="patchExpression")
    guidance: str = ""


class RuleTests(BaseModel):
    """Manifests that prove the rule: every `fail` object must fail it, every `pass` must not."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    fail: list[dict[str, Any]] = Field(default_factory=list)
    pass_: list[dict[str, Any]] = Field(default_factory=list, alias="pass")
    params: dict[str, Any] = Field(
        default_factory=dict, description="parameter overrides for these cases (rules inert by default)"
    )


class Rule(BaseModel):
    """A rule as written in `rules/*.yaml`: data a reviewer can read without Python."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=r"^K8S-[A-Z0-9][A-Z0-9-]*$")
    title: str
    severity: Severity
    category: Category
    scope: Scope
    match: Match = Field(default_factory=Match)
    check: str = Field(description="CEL expression, true when the object is compliant")
    message: str = ""
    message_expression: str | None = Field(default=None, alias="messageExpression")
    severity_expression: str | None = Field(
        default=None, alias="severityExpression",
        description="CEL giving this finding's severity (e.g. by reach); `severity` is the worst it gives")
    supersedes: list[str] = Field(
        default_factory=list,
        description="rule ids whose failure at the same place this rule's finding reports too (and its fix resolves)")
    evidence: list[str] = Field(default_factory=list, description="paths under the scope root")
    evidence_expression: str | None = Field(
        default=None, alias="evidenceExpression",
        description="CEL giving a list of {path, value}: the part that matched (replaces `evidence`)")
    why: str
    remediation: Remediation = Field(default_factory=Remediation)
    frameworks: list[str] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    requires: list[str] = Field(
        default_factory=list, description="kinds that must be readable for the rule to be assessable"
    )
    manual: bool = Field(default=False, description="the upstream recommendation is manual")
    tests: RuleTests = Field(default_factory=RuleTests)
    source_file: str = Field(default="", exclude=True)


class Evidence(BaseModel):
    model_config = ON_USE

    path: str
    value: Any = None


class SourceRef(BaseModel):
    file: str | None = None
    document: int | None = None
    line: int | None = None


class Safety(StrEnum):
    """How far a patch can be trusted (see `kspm_tui.fixes.safety`)."""

    safe = "safe"  # the API server accepts it, PSA still admits the pod, nothing a container needs goes
    review = "review"  # it may stop something that works: read `safety_reason` first


class FindingRemediation(BaseModel):
    """The fix shown for one finding: a patch with its verdict and cost, or guidance only.

    `safety` is set whenever a patch is offered; a patch known to be refused or to break the
    workload is withheld and `guidance` says why and what to do instead.
    """

    patch: dict[str, Any] | None = None
    kubectl: str | None = None
    guidance: str = ""
    safety: Safety | None = None
    safety_reason: str = ""
    cost: str = ""

    @property
    def verdict(self) -> str:
        """`safe`, `review` or `none` (no patch): the short label reports put next to a fix."""
        return self.safety.value if self.safety is not None else "none"

    def verdict_text(self) -> str:
        """One line for reports: `safe (rolling restart): reason`, or '' without a patch."""
        if self.safety is None:
            return ""
        cost = f" ({self.cost})" if self.cost else ""
        return f"{self.safety.value}{cost}: {self.safety_reason}"


class Exception_(BaseModel):
    """Why a finding is accepted (filled by `kspm_tui.triage.acceptance`).

    On a `fail` finding with `expired` true it records the exception that no longer applies,
    so the finding can say "exception expired on DATE" instead of silently failing again.
    """

    model_config = ON_USE

    reason: str
    owner: str = ""
    created: date | None = None
    expires: date | None = None
    origin: str = ""
    expired: bool = False
    self_waiver: bool = False  # from an annotation on the object itself (`kspm-tui.io/accept`)


class Finding(BaseModel):
    model_config = ON_USE

    rule: str
    title: str
    severity: Severity
    status: Status
    category: Category
    cluster: str
    kind: str
    namespace: str | None = None
    name: str
    container: str | None = None
    message: str
    evidence: list[Evidence] = Field(default_factory=list)
    frameworks: list[str] = Field(default_factory=list)
    source: SourceRef = Field(default_factory=SourceRef)
    remediation: FindingRemediation = Field(default_factory=FindingRemediation)
    fingerprint: str = ""
    context: str | None = None
    acceptance: Exception_ | None = None
    covers: list[str] = Field(
        default_factory=list, description="superseded rules that failed at the same place, reported by this finding")

    def covers_note(self) -> str:
        """` (also covers K8S-A, K8S-B)`, or "" — appended where a finding's message is shown."""
        return f" (also covers {', '.join(self.covers)})" if self.covers else ""

    def model_post_init(self, _: Any) -> None:
        if not self.fingerprint:
            self.fingerprint = fingerprint(
                self.rule, self.cluster, self.kind, self.namespace, self.name, self.container
            )


def fingerprint(
    rule: str, cluster: str, kind: str, namespace: str | None, name: str, container: str | None
) -> str:
    """Stable identity of a finding across scans, renames of contexts and re-orderings."""
    key = "|".join((rule, cluster, kind, namespace or "", name, container or ""))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class InputError(BaseModel):
    """Something we could not read; shown to the user, never fatal to the scan."""

    model_config = ON_USE

    file: str
    document: int | None = None
    line: int | None = None
    message: str

    def where(self, *, document: bool = True) -> str:
        """`FILE[ document N][ line L]`, as every command names the place. An exceptions file's
        errors number their entry in `document` and say it in the message: `document=False`."""
        return self.file + (f" document {self.document}" if self.document and document else "") + (
            f" line {self.line}" if self.line else "")

    def input_line(self) -> str:
        """As commands print an unreadable input: `input error: PLACE: MESSAGE`."""
        return f"input error: {self.where()}: {self.message}"

    def exceptions_line(self) -> str:
        """As commands print a problem reading the exceptions: `exceptions: PLACE: MESSAGE`."""
        return f"exceptions: {self.where(document=False)}: {self.message}"


class RuleError(BaseModel):
    """A rule that could not be loaded or evaluated; the other rules still run."""

    model_config = ON_USE

    file: str
    rule: str | None = None
    message: str

    def line(self) -> str:
        """As every command prints it (stderr, the table): `rule error: FILE [ID]: MESSAGE`."""
        return f"rule error: {self.file}" + (f" [{self.rule}]" if self.rule else "") + f": {self.message}"


class CoverageGap(BaseModel):
    """Something the scanner could not see, and which rules that leaves not assessable."""

    model_config = ON_USE

    kind: str
    reason: str
    rules: list[str] = Field(default_factory=list)


class RuleStat(BaseModel):
    """Per-rule outcome: how many objects were checked, how many failed (accepted included)."""

    rule: str
    severity: Severity | None = None
    evaluated: int = 0
    failed: int = 0
    accepted: int = 0
    superseded: int = Field(default=0, description="failures reported by another rule's finding (not scored twice)")
    not_assessable: bool = False
    reason: str = ""


class ScoreCap(BaseModel):
    """Why the posture score is lower than the pass rate: what matters most is still open."""

    max: int = Field(description="the score cannot exceed this while the reason holds")
    reason: str = Field(description="the open finding(s) that cap the score")
    uncapped: int = Field(description="the weighted pass rate before the cap")


class Summary(BaseModel):
    total: int = 0
    by_severity: dict[str, int] = Field(default_factory=dict)
    by_category: dict[str, int] = Field(default_factory=dict)
    by_status: dict[str, int] = Field(default_factory=dict)
    objects: int = 0
    workloads: int = 0
    rules: int = 0
    score: int = 100
    self_waived: int = 0  # findings accepted by an annotation on their own object
    score_cap: ScoreCap | None = Field(default=None, description="set when an open finding caps the score")


class Excluded(BaseModel):
    """What default exclusions kept out of workload findings (never silently dropped)."""

    namespaces: list[str] = Field(default_factory=list)
    workloads: int = 0
    findings: int = 0
    by_severity: dict[str, int] = Field(default_factory=dict)  # of those findings: --fail-on counts them


class ClusterInfo(BaseModel):
    id: str
    name: str
    context: str | None = None
    server: str | None = None
    partial: bool = False


class RuleInfo(BaseModel):
    """What reports need to explain a rule (SARIF help text, framework tables)."""

    id: str
    title: str
    severity: Severity
    category: Category
    why: str = ""
    guidance: str = ""
    frameworks: list[str] = Field(default_factory=list)


class WorkloadRef(BaseModel):
    kind: str
    namespace: str | None = None
    name: str
    images: list[str] = Field(default_factory=list)


class BindingRef(BaseModel):
    """A (Cluster)RoleBinding: which role it grants to whom (`Kind:namespace/name` subjects)."""

    kind: str
    namespace: str | None = None
    name: str
    role: str
    subjects: list[str] = Field(default_factory=list)


class AcceptAnnotation(BaseModel):
    """A `kspm-tui.io/accept` annotation found on a scanned object (value unparsed)."""

    model_config = ON_USE

    kind: str
    namespace: str | None = None
    name: str
    value: str
    owner: str | None = None  # the `kspm-tui.io/accept-owner` annotation, when present


class Inventory(BaseModel):
    """What was scanned: workloads, images and bindings for drift (kept in history), and the
    accept annotations, so exceptions can be re-applied without the snapshot."""

    workloads: list[WorkloadRef] = Field(default_factory=list)
    bindings: list[BindingRef] = Field(default_factory=list)
    accept_annotations: list[AcceptAnnotation] = Field(default_factory=list)


class Tool(BaseModel):
    name: str = "kspm-tui"
    version: str


class ControlResult(BaseModel):
    """One control of a framework after a scan, as a compliance report shows it."""

    model_config = ON_USE

    id: str
    title: str
    section: str = ""
    automated: bool = True
    status: str = Field(description="pass | fail | not-assessable | manual")
    failing: int = 0
    accepted: int = 0
    checked: int = 0
    rules: list[str] = Field(default_factory=list)
    reason: str = ""


class ComplianceReport(BaseModel):
    """A scan seen through one framework (`scan --framework ID`)."""

    model_config = ON_USE

    framework: str
    name: str
    version: str = ""
    score: int | None = Field(default=None, description="passing ÷ (passing + failing) controls, in %")
    counts: dict[str, int] = Field(default_factory=dict)
    controls: list[ControlResult] = Field(default_factory=list)
    note: str = ""


class ScanResult(BaseModel):
    tool: Tool
    cluster: ClusterInfo
    started: datetime
    duration_s: float = 0.0
    summary: Summary = Field(default_factory=Summary)
    findings: list[Finding] = Field(default_factory=list)
    errors: list[InputError] = Field(default_factory=list)
    rule_errors: list[RuleError] = Field(default_factory=list)
    coverage: list[CoverageGap] = Field(default_factory=list)
    rule_stats: list[RuleStat] = Field(default_factory=list)
    excluded: Excluded = Field(default_factory=Excluded)
    rules: list[RuleInfo] = Field(default_factory=list)
    exception_errors: list[InputError] = Field(
        default_factory=list, description="invalid exception entries (file, entry number, problem)")
    inventory: Inventory = Field(default_factory=Inventory, exclude=True)
    compliance: ComplianceReport | None = None
