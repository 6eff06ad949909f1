"""Accepted risks: exceptions that turn matching failures into `accepted` findings.

Three sources, all optional: `exceptions.yaml` in the user's config directory, files given
with `--exceptions FILE` (kept in git for CI), and the `kspm-tui.io/accept` annotation on a
resource (`K8S-ID[,K8S-ID] reason`, owner in `kspm-tui.io/accept-owner`). An exception
selects findings by rule id and by cluster, namespace, kind, name and container (shell
globs); it carries reason, owner, created and expiry dates. Accepted findings stay visible with who/why/until; an expired
exception stops applying and the finding says so. A bad entry is reported with its file
and entry number and skipped; it never stops a scan.

Annotations are self-waivers (whoever creates an object can annotate it), so they are
bounded: concrete rule ids only (a glob is an error on that object and ignored), no
critical findings unless the config's `annotation_exceptions.allow_critical` says so, and
none at all with `annotation_exceptions.enabled: false` or `--no-annotation-exceptions`.

File format (a mapping with `exceptions:`, or a bare list)::

    exceptions:
      - rule: K8S-PRIVILEGED          # or rules: [K8S-A, K8S-B]; globs allowed (K8S-HOST-*)
        namespace: monitoring         # selectors default to "*" (any)
        kind: DaemonSet
        name: node-exporter*
        container: exporter           # only this container's findings; omit for the whole object
        reason: needs the host PID namespace to read node metrics
        owner: team-observability
        created: 2026-01-10
        expires: 2026-12-31           # inclusive; omit for no expiry
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kspm_tui.config import AnnotationExceptions
from kspm_tui.inventory import ACCEPT_ANNOTATION
from kspm_tui.locations import config_dir
from kspm_tui.model import AcceptAnnotation, Exception_, Finding, InputError, ScanResult, Severity, Status
from kspm_tui.results import resummarize
from kspm_tui.yamlio import dump_yaml, load_yaml

if TYPE_CHECKING:
    from kspm_tui.target import ScanSettings

EXPIRED_NOTE = " (exception expired on {})"

State = Literal["active", "expired", "unmatched"]


class AcceptedRisk(BaseModel):
    """One exception: which findings it accepts, and who accepted them, why, until when."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built when an exceptions file is read

    rules: list[str] = Field(min_length=1, description="rule ids or globs (K8S-HOST-*)")
    cluster: str = Field(default="*", description="cluster id, name or context (glob)")
    namespace: str = "*"
    kind: str = "*"
    name: str = "*"
    container: str | None = Field(default=None, description="only this container's findings (glob)")
    reason: str = Field(min_length=1)
    owner: str = ""
    created: date | None = None
    expires: date | None = None
    origin: str = Field(default="", exclude=True, description="where it was read from")
    self_waiver: bool = Field(default=False, exclude=True, description="an annotation on the object itself")
    accepts_critical: bool = Field(default=True, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _single_rule(cls, data: Any) -> Any:
        """Accept `rule: X` as shorthand for `rules: [X]`."""
        if isinstance(data, dict) and "rule" in data:
            data = dict(data)
            rule = data.pop("rule")
            data["rules"] = [*data.get("rules", []), rule]
        return data

    @field_validator("rules")
    @classmethod
    def _upper(cls, rules: list[str]) -> list[str]:
        return [str(r).strip().upper() for r in rules]

    @field_validator("reason")
    @classmethod
    def _reason_text(cls, reason: str) -> str:
        if not reason.strip():
            raise ValueError("a reason is required")
        return reason.strip()

    def is_expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def selects(self, finding: Finding, cluster_names: tuple[str, ...] = ()) -> bool:
        """True if the selector covers the finding (expiry is not considered here).

        A container selector matches only findings of that container: pod-level findings
        and the pod's other containers are never covered by it.
        """
        if not any(_glob(pattern)(finding.rule) for pattern in self.rules):
            return False
        if self.container is not None and (finding.container is None or not _glob(self.container)(finding.container)):
            return False
        if finding.namespace is None:
            if self.namespace != "*":
                return False
        elif not _glob(self.namespace)(finding.namespace):
            return False
        in_cluster = _glob(self.cluster)
        return (any(c and in_cluster(c) for c in (finding.cluster, finding.context, *cluster_names))
                and _glob(self.kind)(finding.kind) and _glob(self.name)(finding.name))

    def acceptance(self, *, expired: bool = False) -> Exception_:
        return Exception_(reason=self.reason, owner=self.owner, created=self.created,
                          expires=self.expires, origin=self.origin, expired=expired,
                          self_waiver=self.self_waiver)

    def accepts(self, finding: Finding, today: date) -> bool:
        """Active for this finding: not expired, and allowed to accept its severity."""
        return not self.is_expired(today) and (self.accepts_critical or finding.severity is not Severity.critical)


@lru_cache(maxsize=4096)
def _glob(pattern: str) -> Callable[[str], bool]:
    """A shell-glob test, compiled once: `*` is free, a plain name is a string comparison."""
    if pattern == "*":
        return lambda _: True
    if not any(c in pattern for c in "*?["):
        return pattern.__eq__
    regex = re.compile(fnmatch.translate(pattern))
    return lambda value: regex.match(value) is not None


class _RiskIndex:
    """Exceptions by exact rule id (most are), so each finding checks only its own."""

    def __init__(self, risks: list[AcceptedRisk]) -> None:
        self.by_rule: dict[str, list[AcceptedRisk]] = defaultdict(list)
        self.globbed: list[AcceptedRisk] = []
        for risk in risks:
            if any(any(c in r for c in "*?[") for r in risk.rules):
                self.globbed.append(risk)
            else:
                for rule in set(risk.rules):
                    self.by_rule[rule].append(risk)

    def covering(self, finding: Finding, names: tuple[str, ...]) -> list[AcceptedRisk]:
        candidates = self.by_rule.get(finding.rule, []) + self.globbed
        return [r for r in candidates if r.selects(finding, names)]


@dataclass(slots=True)
class ExceptionStatus:
    """An exception as listed to the user: its state, how many findings it covers, its origin."""

    risk: AcceptedRisk
    state: State
    matches: int


def user_exceptions_path() -> Path:
    return config_dir() / "exceptions.yaml"


def today_utc() -> date:
    return datetime.now(UTC).date()


# -- loading ---------------------------------------------------------------------------------
def load_file(path: Path, *, required: bool = True) -> tuple[list[AcceptedRisk], list[InputError]]:
    """Exceptions from one file; every bad entry becomes an error naming file and entry."""
    name = str(path)
    if not path.is_file():
        if required:
            return [], [InputError(file=name, message="exceptions file not found")]
        return [], []
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return [], [InputError(file=name, message=f"cannot read exceptions file: {exc}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return [], [InputError(file=name, line=mark.line + 1 if mark else None,
                               message=f"invalid YAML: {problem}")]
    if data is None:
        return [], []
    entries = data.get("exceptions") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        return [], [InputError(file=name, message="expected a list under `exceptions:`")]
    risks: list[AcceptedRisk] = []
    errors: list[InputError] = []
    for number, entry in enumerate(entries, 1):
        try:
            if not isinstance(entry, dict):
                raise TypeError(f"expected a mapping, got {type(entry).__name__}")
            risks.append(AcceptedRisk.model_validate({**entry, "origin": f"{name} entry {number}"}))
        except (ValidationError, TypeError) as exc:
            errors.append(InputError(file=name, document=number,
                                     message=f"entry {number}{_entry_label(entry)}: {_problem(exc)}"))
    return risks, errors


def _entry_label(entry: Any) -> str:
    if isinstance(entry, dict):
        rule = entry.get("rule") or entry.get("rules")
        if rule:
            return f" ({rule if isinstance(rule, str) else ','.join(map(str, rule))})"
    return ""


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors()[:3]:
            where = ".".join(str(p) for p in err["loc"])
            parts.append(f"{where}: {err['msg']}" if where else err["msg"])
        return "; ".join(parts)
    return str(exc)


def parse_annotation(note: AcceptAnnotation, policy: AnnotationExceptions
                     ) -> tuple[AcceptedRisk | None, list[str]]:
    """`K8S-ID[,K8S-ID] reason` on an object → an exception for that object, and problems.

    Globs are refused one by one (the object's concrete ids still apply): a self-waiver
    names exactly what it accepts.
    """
    ids, _, reason = note.value.strip().partition(" ")
    rules = [r for r in ids.split(",") if r]
    where = object_label(note.kind, note.namespace, note.name)
    if not rules or not all(r.upper().startswith("K8S-") for r in rules):
        return None, [f"{where}: {ACCEPT_ANNOTATION} must start with rule ids (K8S-ID[,K8S-ID] reason)"]
    if not reason.strip():
        return None, [f"{where}: {ACCEPT_ANNOTATION} needs a reason after the rule ids"]
    globs = [r for r in rules if any(c in r for c in "*?[")]
    problems = [f"{where}: {ACCEPT_ANNOTATION} must name rule ids, not patterns: {r} ignored" for r in globs]
    concrete = [r for r in rules if r not in globs]
    if not concrete:
        return None, problems
    risk = AcceptedRisk(rules=concrete, namespace=note.namespace or "*", kind=note.kind, name=note.name,
                        reason=reason, owner=(note.owner or "").strip() or f"annotation on {where}",
                        origin=f"annotation on {where}", self_waiver=True,
                        accepts_critical=policy.allow_critical)
    return risk, problems


def object_label(kind: str, namespace: str | None, name: str) -> str:
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def annotation_exceptions(annotations: list[AcceptAnnotation], policy: AnnotationExceptions | None = None
                          ) -> tuple[list[AcceptedRisk], list[InputError]]:
    """Exceptions from the `kspm-tui.io/accept` annotations of scanned objects (none when the
    policy turns them off)."""
    policy = policy or AnnotationExceptions()
    risks: list[AcceptedRisk] = []
    errors: list[InputError] = []
    if not policy.enabled:
        return risks, errors
    for note in annotations:
        risk, problems = parse_annotation(note, policy)
        errors += [InputError(file=f"annotation {ACCEPT_ANNOTATION}", message=p) for p in problems]
        if risk is not None:
            risks.append(risk)
    return risks, errors


def load_exceptions(files: list[Path], *, user_file: bool = True
                    ) -> tuple[list[AcceptedRisk], list[InputError]]:
    """The user's `exceptions.yaml` (if any), then each `--exceptions FILE` (which must exist)."""
    risks: list[AcceptedRisk] = []
    errors: list[InputError] = []
    sources = ([(user_exceptions_path(), False)] if user_file else []) + [(f, True) for f in files]
    for path, required in sources:
        more, problems = load_file(path, required=required)
        risks += more
        errors += problems
    return risks, errors


def all_exceptions(result: ScanResult, files: list[Path], *, user_file: bool = True,
                   annotations: AnnotationExceptions | None = None
                   ) -> tuple[list[AcceptedRisk], list[InputError]]:
    """Every exception that applies to a scan (files, then the scanned annotations), and problems."""
    risks, errors = load_exceptions(files, user_file=user_file)
    from_annotations, bad = annotation_exceptions(result.inventory.accept_annotations, annotations)
    return risks + from_annotations, errors + bad


def accept_risks(result: ScanResult, settings: ScanSettings, today: date | None = None) -> list[AcceptedRisk]:
    """The one place exceptions are applied, with what the user chose for this scan (exception
    files, the config dir's exceptions.yaml, the annotation policy): load every source, apply,
    record problems.

    The scan and the watch call it after evaluation; the TUI calls it again after
    `add_exception` and lists what it returns with `list_exceptions`.
    """
    risks, result.exception_errors = all_exceptions(
        result, settings.exception_files, user_file=settings.user_exceptions,
        annotations=settings.config.annotation_exceptions)
    if risks or any(f.status is Status.accepted or f.acceptance for f in result.findings):
        apply_exceptions(result, risks, today)
        result.exception_errors += refused_self_waivers(result, risks)
    return risks


def refused_self_waivers(result: ScanResult, risks: list[AcceptedRisk]) -> list[InputError]:
    """One error per critical finding an annotation tried to accept on its own object."""
    limited = [r for r in risks if not r.accepts_critical]
    if not limited:
        return []
    index = _RiskIndex(limited)
    names = cluster_names(result.cluster.name, result.cluster.context)
    return [
        InputError(file=f"annotation {ACCEPT_ANNOTATION}",
                   message=f"{object_label(f.kind, f.namespace, f.name)}: cannot accept its own critical "
                           f"finding {f.rule} (set annotation_exceptions.allow_critical in config.yaml)")
        for f in result.findings
        if f.status is Status.fail and f.severity is Severity.critical and index.covering(f, names)
    ]


# -- applying --------------------------------------------------------------------------------
def apply_exceptions(result: ScanResult, risks: list[AcceptedRisk], today: date | None = None) -> None:
    """Mark failing findings covered by an active exception `accepted`; note expired ones.

    Idempotent: findings accepted by an earlier call are re-judged, so the TUI can re-apply
    after adding an exception. Rule stats, summary and score are recomputed.
    """
    accepted = judge(result.findings, risks, cluster_names(result.cluster.name, result.cluster.context), today)
    for stat in result.rule_stats:
        stat.accepted = accepted.get(stat.rule, 0)
    result.summary = resummarize(result)


def cluster_names(name: str | None, context: str | None) -> tuple[str, ...]:
    """The names an exception's `cluster` selector may give for a scanned cluster."""
    return tuple(n for n in (name, context) if n)


def judge(findings: list[Finding], risks: list[AcceptedRisk], names: tuple[str, ...],
          today: date | None = None) -> Counter[str]:
    """Mark each failing finding an active exception covers `accepted`, note expired ones;
    `names`: the cluster's name and context, which exceptions may name. Accepted per rule."""
    today = today or today_utc()
    accepted: Counter[str] = Counter()
    index = _RiskIndex(risks)
    for finding in findings:
        if finding.status is Status.accepted or (finding.acceptance and finding.acceptance.expired):
            _reset(finding)
        if finding.status is not Status.fail:
            continue
        covering = index.covering(finding, names)
        active = next((r for r in covering if r.accepts(finding, today)), None)
        if active is not None:
            finding.status = Status.accepted
            finding.acceptance = active.acceptance()
            accepted[finding.rule] += 1
        elif expired_ones := [r for r in covering if r.is_expired(today)]:
            expired = max(expired_ones, key=lambda r: r.expires or date.min)
            finding.acceptance = expired.acceptance(expired=True)
            finding.message += EXPIRED_NOTE.format(expired.expires)
    return accepted


def _reset(finding: Finding) -> None:
    if finding.acceptance and finding.acceptance.expired:
        note = EXPIRED_NOTE.format(finding.acceptance.expires)
        finding.message = finding.message.removesuffix(note)
    finding.status = Status.fail
    finding.acceptance = None


def list_exceptions(risks: list[AcceptedRisk], result: ScanResult | None = None,
                    today: date | None = None) -> list[ExceptionStatus]:
    """Every exception with its state: expired, active (covers findings) or unmatched."""
    today = today or today_utc()
    names = cluster_names(result.cluster.name, result.cluster.context) if result else ()
    matches: Counter[int] = Counter()
    if result is not None:
        index = _RiskIndex(risks)
        for finding in result.findings:
            if finding.status in (Status.fail, Status.accepted):
                matches.update(id(r) for r in index.covering(finding, names)
                               if r.accepts_critical or finding.severity is not Severity.critical)
    out = []
    for risk in risks:
        count = matches[id(risk)]
        state: State = "expired" if risk.is_expired(today) else (
            "active" if count or result is None else "unmatched")
        out.append(ExceptionStatus(risk, state, count))
    return out


# -- writing ---------------------------------------------------------------------------------
def exception_for(finding: Finding, *, reason: str, owner: str = "", expires: date | None = None,
                  whole_object: bool = False, today: date | None = None) -> AcceptedRisk:
    """An exception covering exactly this finding (its container only, unless `whole_object`)."""
    return AcceptedRisk(
        rules=[finding.rule], cluster=finding.cluster, namespace=finding.namespace or "*",
        kind=finding.kind, name=finding.name,
        container=None if whole_object else finding.container,
        reason=reason, owner=owner, created=today or today_utc(), expires=expires,
    )


def add_exception(risk: AcceptedRisk, path: Path | None = None) -> Path:
    """Append an exception to `path` (default: the user's exceptions.yaml), atomically.

    Existing entries are kept as written; a file that cannot be parsed is never overwritten
    (ValueError naming it), so a typo does not cost the user their other exceptions.
    """
    from kspm_tui.atomic_write import atomic_write

    path = path or user_exceptions_path()
    data: Any = None
    if path.is_file():
        try:
            data = load_yaml(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: cannot add an exception, the file is not valid YAML ({exc})") from None
    if data is None:
        data = {"exceptions": []}
    entries = data.get("exceptions") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ValueError(f"{path}: cannot add an exception, expected a list under `exceptions:`")
    entry = risk.model_dump(mode="json", exclude_defaults=True)
    if len(risk.rules) == 1:
        entry = {"rule": entry.pop("rules")[0], **entry}
    entries.append(entry)
    atomic_write(path, dump_yaml(data).encode())
    return path
