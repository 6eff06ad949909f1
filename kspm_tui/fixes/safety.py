"""Safety verdicts: is a finding's patch safe to paste, and what does applying it cost?

`safe` needs three things: the patched object passes the API server's validation
(validation.py), the Pod is still admitted by its namespace's Pod Security level, and nothing a
container needs is taken away (per-rule knowledge in data/safety.yaml, image knowledge in
data/images.yaml). Fixes that need more than the field get it here (emptyDirs for a read-only
root, a non-root UID, a memory limit with headroom). A patch known to be refused or to break the
workload (a node agent's host access, a root-only image made non-root) is withheld and the
guidance says why and what to do instead.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kspm_tui import strategic_merge
from kspm_tui.engine.pod_security import PodSecurityLevels, rank
from kspm_tui.fixes import images
from kspm_tui.fixes.agents import agent_traits
from kspm_tui.fixes.validation import Remembered, validate_object
from kspm_tui.kinds import TEMPLATE_PATH
from kspm_tui.model import Finding, FindingRemediation, Safety, Status
from kspm_tui.remediation import finding_remediation, join_guidance, kubectl_patch
from kspm_tui.snapshot import Key, Snapshot
from kspm_tui.yamlio import load_yaml

SAFETY_FILE = Path(__file__).parent / "data" / "safety.yaml"
DEFAULT_UID = 65532  # the distroless `nonroot` user: owns nothing in most images, reads what is world-readable
HEADROOM = 1.5
WITHHELD = "No patch offered: "  # how a withheld fix's guidance starts (plans list these)
PSA_RULES = ("K8S-NS-PSA-ENFORCE-MISSING", "K8S-NS-PSA-PRIVILEGED")


class RuleSafety(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Safety = Safety.review
    reason: str = "no safety record for this rule: read the patch before applying it"
    agent: str | None = Field(default=None, description="least privilege that keeps a node agent working")


_NO_RECORD = RuleSafety()  # rules without an entry: one shared record (read, never changed)


@lru_cache(maxsize=1)
def safety_table() -> dict[str, RuleSafety]:
    data = load_yaml(SAFETY_FILE.read_text(encoding="utf-8")) or {}
    return {rule: RuleSafety.model_validate(entry) for rule, entry in (data.get("rules") or {}).items()}


def cost_of(kind: str) -> str:
    """What applying a patch to an object of `kind` sets in motion."""
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        return "rolling restart"
    if kind in ("ReplicaSet", "ReplicationController"):
        return "new Pods only (delete the old ones to apply)"
    if kind == "Job":
        return "re-create the Job"
    if kind == "Pod":
        return "re-create the Pod"
    if kind == "CronJob":
        return "from the next run"
    return "none"


@dataclass(slots=True)
class Verdict:
    """A patch (possibly extended), its verdict and reason; `withheld` when it must not be offered."""

    patch: dict[str, Any] | None
    safety: Safety
    reason: str
    withheld: str = ""  # why no patch is offered, and what to do instead


# What an object alone decides of its findings' verdicts, kept across a watch's batches:
# object key → (the object, {(rule, container, covered rules): (patch, verdict)}). An entry
# holds while the snapshot holds that very object (a watch replaces an edited one, never
# changes it in place); the namespace's enforced level is judged again each time.
VerdictCache = dict[Key, tuple[dict[str, Any], dict[tuple[str, str | None, tuple[str, ...]],
                                                    tuple[dict[str, Any], "Verdict"]]]]


class Assessor:
    """Assesses findings of one scan against its snapshot and Pod Security levels."""

    def __init__(self, snapshot: Snapshot, levels: PodSecurityLevels,
                 ns_facts: dict[str, dict[str, Any]], context: str | None = None,
                 kept: VerdictCache | None = None) -> None:
        self.snapshot = snapshot
        self.levels = levels
        self.ns_facts = ns_facts
        self.context = context
        self.table = safety_table()
        self._kept: VerdictCache = {} if kept is None else kept
        self._problems: dict[int, set[str]] = {}  # id(object) → its own validation problems (as text)
        self._remembered = Remembered()  # the objects' containers, checked once (see validation.py)

    def assess_all(self, findings: list[Finding]) -> None:
        for finding in findings:
            # attack-path cuts arrive judged (graph/paths.py says what each cut costs the workload)
            if finding.status is Status.fail and finding.remediation.patch is not None \
                    and finding.remediation.safety is None:
                finding.remediation = self.remediation(finding)

    def remediation(self, finding: Finding) -> FindingRemediation:
        rem = finding.remediation
        verdict = self.verdict(finding, rem.patch or {})
        if verdict.withheld or verdict.patch is None:
            note = verdict.withheld or verdict.reason
            return finding_remediation(guidance=join_guidance(WITHHELD + note, rem.guidance))
        if verdict.patch is rem.patch or not rem.kubectl:  # unchanged: its command stands
            kubectl = rem.kubectl
        else:
            kubectl = kubectl_patch(finding.kind, finding.name, finding.namespace, verdict.patch, self.context)
        return finding_remediation(patch=verdict.patch, kubectl=kubectl, guidance=rem.guidance,
                                   safety=verdict.safety, safety_reason=verdict.reason,
                                   cost=cost_of(finding.kind))

    # -- the verdict ---------------------------------------------------------------------
    def record(self, finding: Finding) -> RuleSafety:
        """What the finding's patch risks. A superseding finding's patch also does what the rules
        it covers would do (their patches are merged into it, `supersedes:`), so it is `safe` only
        when every one of them is; the reason names each covered rule's risk, and the least
        privilege for a node agent comes from the first rule that knows one."""
        own = self.table.get(finding.rule, _NO_RECORD)
        if not finding.covers:
            return own
        risky = self._covered_risk(finding)
        verdict = Safety.review if own.verdict is not Safety.safe or risky else Safety.safe
        agent = own.agent or next((r.agent for r in map(self.table.get, finding.covers) if r and r.agent), None)
        return RuleSafety(verdict=verdict, reason=own.reason + risky, agent=agent)

    def _covered_risk(self, finding: Finding) -> str:
        """`; it also applies the fix of K8S-X ...: its risk` for each covered rule whose (merged) patch is not `safe`."""
        records = ((rule, self.table.get(rule, _NO_RECORD)) for rule in finding.covers)
        return "".join(f"; it also applies the fix of {rule}, which it covers: {r.reason}"
                       for rule, r in records if r.verdict is not Safety.safe)

    def verdict(self, finding: Finding, patch: dict[str, Any]) -> Verdict:
        if finding.rule in PSA_RULES:
            return self._psa_label(finding, patch)
        item = self.snapshot.get(finding.kind, finding.namespace, finding.name)
        obj = item.obj if item is not None else None
        if obj is None or finding.kind not in TEMPLATE_PATH:
            record = self.record(finding)
            return Verdict(patch, record.verdict, record.reason)
        verdict = self._object_verdict(finding, obj, patch)
        if verdict.withheld or verdict.patch is None:
            return verdict
        blocked = self._psa_blocked(finding)
        if blocked and verdict.safety is Safety.safe:
            return Verdict(verdict.patch, Safety.review, blocked)
        return verdict

    def _object_verdict(self, finding: Finding, obj: dict[str, Any], patch: dict[str, Any]) -> Verdict:
        """The verdict as far as the object decides it: taken from `kept` while the object,
        the rule, the container, the covered rules and the patch are the same."""
        key = (finding.kind, finding.namespace, finding.name)
        entry = self._kept.get(key)
        if entry is None or entry[0] is not obj:
            entry = self._kept[key] = (obj, {})
        which = (finding.rule, finding.container, tuple(finding.covers))
        hit = entry[1].get(which)
        if hit is not None and hit[0] == patch:
            return hit[1]
        verdict = self._judged(finding, obj, patch)
        entry[1][which] = (patch, verdict)
        return verdict

    def _judged(self, finding: Finding, obj: dict[str, Any], patch: dict[str, Any]) -> Verdict:
        record = self.record(finding)
        traits = agent_traits(obj)
        if traits and record.agent:
            return Verdict(None, Safety.review, "", _agent_note(finding, traits, record.agent))
        verdict = self._specific(finding, obj, patch, record)
        if verdict.withheld or verdict.patch is None:
            return verdict
        risky = self._covered_risk(finding) if verdict.safety is Safety.safe else ""
        if risky:  # a rule-specific verdict judged the finding's own change: the merged rest is not safe
            verdict = Verdict(verdict.patch, Safety.review, verdict.reason + risky)
        before = self._problems.get(id(obj))
        if before is None:
            before = self._problems[id(obj)] = {str(p) for p in validate_object(obj, self._remembered, learn=True)}
        after = [p for p in validate_object(strategic_merge.apply(obj, verdict.patch), self._remembered)
                 if str(p) not in before]
        if after:
            return Verdict(None, Safety.review, "", "the result would be refused: " + "; ".join(map(str, after[:2]))
                           + ". " + _instead(finding, after[0].message))
        return verdict

    def _psa_blocked(self, finding: Finding) -> str:
        """Why the restart a fix causes would fail: the namespace enforces a level the workload misses."""
        level = self.levels.level(finding.kind, finding.namespace, finding.name)
        enforce = ((self.ns_facts.get(finding.namespace or "") or {}).get("psa") or {}).get("enforce", "")
        if level is None or enforce not in ("baseline", "restricted") or rank(level) >= rank(enforce):
            return ""
        return (f"namespace {finding.namespace} enforces {enforce} and this workload meets only {level}: "
                "the Pods this change creates are rejected until its plan fixes the rest")

    def _psa_label(self, finding: Finding, patch: dict[str, Any]) -> Verdict:
        fact = (self.ns_facts.get(finding.name) or {}).get("podSecurity") or {}
        level = fact.get("level", "restricted")
        blocking = fact.get("blocking", {}).get("restricted" if level == "baseline" else "baseline", [])
        why = f"every workload now in {finding.name} satisfies {level}"
        if blocking and level != "restricted":
            why += f" ({', '.join(blocking[:3])}{' …' if len(blocking) > 3 else ''} block the next level)"
        return Verdict(patch, Safety.safe, why)

    def _specific(self, finding: Finding, obj: dict[str, Any], patch: dict[str, Any],
                  record: RuleSafety) -> Verdict:
        """Rules whose fix needs the image or the values: extend the patch and judge it."""
        spec = _template(obj).get("spec") or {}
        container = _container(spec, finding.container)
        if finding.rule == "K8S-READONLY-ROOT-FILESYSTEM" and container is not None:
            return _read_only_root(finding, obj, patch, container, record)
        if finding.rule in ("K8S-RUN-AS-NON-ROOT", "K8S-RUN-AS-USER-ROOT"):
            return _non_root(finding, obj, patch, spec, record)
        if finding.rule == "K8S-RESOURCES-MEMORY-LIMIT" and container is not None:
            return _memory_limit(finding, obj, patch, container)
        return Verdict(patch, record.verdict, record.reason)


# -- rule-specific fixes ---------------------------------------------------------------------
def _read_only_root(finding: Finding, obj: dict[str, Any], patch: dict[str, Any],
                    container: dict[str, Any], record: RuleSafety) -> Verdict:
    image = str(container.get("image") or "")
    facts = images.facts(image)
    if facts is None:
        return Verdict(patch, Safety.review, f"image {image or '(none)'} is not in the known-images list: "
                       "writes outside mounted volumes will fail; add emptyDir mounts for the paths it writes")
    if not facts.read_only_root:
        return Verdict(None, Safety.review, "", f"{image}: {facts.why}")
    mounted = {m.get("mountPath") for m in container.get("volumeMounts") or () if isinstance(m, dict)}
    needed = [p for p in facts.writes if not any(p == m or p.startswith(str(m).rstrip("/") + "/") for m in mounted)]
    if not needed:
        return Verdict(patch, Safety.safe, f"{image} writes only to mounted volumes")
    names = [_volume_name(finding.container or "c", p) for p in needed]
    extra = {"spec": {
        "volumes": [{"name": n, "emptyDir": {}} for n in names],
        finding_container_list(finding, obj): [{"name": finding.container,
                                                 "volumeMounts": [{"name": n, "mountPath": p} for n, p in zip(names, needed, strict=True)]}],
    }}
    return Verdict(combine(patch, _wrap(obj["kind"], extra)), Safety.safe,
                   f"{image} writes {', '.join(needed)}: each gets an emptyDir (emptied on restart)")


def _non_root(finding: Finding, obj: dict[str, Any], patch: dict[str, Any], spec: dict[str, Any],
              record: RuleSafety) -> Verdict:
    """runAsNonRoot / no UID 0: pick a UID the images run as, or say the image needs root."""
    psc = spec.get("securityContext") or {}
    needs: list[tuple[str, Any]] = []  # containers left without a non-root UID by the patch
    for ctype in ("initContainers", "containers"):
        for c in spec.get(ctype) or ():
            user = ((c or {}).get("securityContext") or {}).get("runAsUser", psc.get("runAsUser"))
            if not isinstance(user, int) or user == 0:
                needs.append((str(c.get("image") or ""), images.facts(str(c.get("image") or ""))))
    if not needs:
        return Verdict(_set_user(patch, None), Safety.safe, "every container already runs as a non-root UID")
    root = [(image, f) for image, f in needs if f is not None and f.non_root_user is None]
    if root:
        image, f = root[0]
        return Verdict(None, Safety.review, "", f"{image} starts as root, so the kubelet would refuse to start it "
                       f"as non-root. Instead: {f.instead or 'use a variant of the image built to run as non-root'}.")
    uids = {f.non_root_user for _, f in needs if f is not None}
    unknown = [image for image, f in needs if f is None]
    uid = next(iter(uids)) if len(uids) == 1 else DEFAULT_UID
    extended = _set_user(patch, uid)
    extended = combine(extended, _wrap(obj["kind"], {"spec": {"securityContext": {
        "runAsNonRoot": True, "runAsUser": uid, "runAsGroup": psc.get("runAsGroup", uid)}}}))
    if unknown or len(uids) > 1:
        return Verdict(extended, Safety.review, f"the user of {', '.join(unknown) or 'these images'} is unknown: "
                       f"the patch runs them as UID/GID {uid}; files owned by another user may be unwritable")
    return Verdict(extended, Safety.safe, f"runs as UID {uid}, the images' own user")


def _memory_limit(finding: Finding, obj: dict[str, Any], patch: dict[str, Any], container: dict[str, Any]) -> Verdict:
    request = ((container.get("resources") or {}).get("requests") or {}).get("memory")
    mib = _mebibytes(request) if request is not None else None
    if mib is None:
        return Verdict(patch, Safety.review, "no memory request to start from: 512Mi is a guess; "
                       "a container that grows past its limit is OOM-killed")
    limit = f"{math.ceil(mib * HEADROOM)}Mi"
    extended = _wrap(obj["kind"], {"spec": {finding_container_list(finding, obj): [
        {"name": finding.container, "resources": {"limits": {"memory": limit}}}]}})
    return Verdict(extended, Safety.review, f"limit {limit} = request {request} + 50% headroom; "
                   "a container that grows past it is OOM-killed: check its peak usage first")


# -- helpers ---------------------------------------------------------------------------------
def combine(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """One strategic-merge patch doing what `first` then `second` do (`second` wins on conflicts).

    Maps merge, lists with a merge key merge item by item, `null` (delete) is kept as a value.
    """
    out = dict(first)
    for key, value in second.items():
        cur = out.get(key)
        if isinstance(value, dict) and isinstance(cur, dict):
            out[key] = combine(cur, value)
        elif isinstance(value, list) and isinstance(cur, list) and key in strategic_merge.MERGE_KEYS \
                and not _replaces(cur) and not _replaces(value):
            merge_key = strategic_merge.MERGE_KEYS[key]
            items = list(cur)
            for item in value:
                at = next((i for i, x in enumerate(items) if isinstance(x, dict) and isinstance(item, dict)
                           and x.get(merge_key) == item.get(merge_key) is not None), None)
                items.append(item) if at is None else items.__setitem__(at, combine(items[at], item))
            out[key] = items
        else:
            out[key] = value
    return out


def _replaces(items: list[Any]) -> bool:
    return any(isinstance(i, dict) and i.get("$patch") == "replace" for i in items)


def finding_container_list(finding: Finding, obj: dict[str, Any]) -> str:
    spec = _template(obj).get("spec") or {}
    for ctype in ("initContainers", "containers", "ephemeralContainers"):
        if any(isinstance(c, dict) and c.get("name") == finding.container for c in spec.get(ctype) or ()):
            return ctype
    return "containers"


def _set_user(patch: Any, uid: int | None) -> Any:
    """The patch with each `runAsUser: null` (remove UID 0) set to `uid` (kept as is when None)."""
    if isinstance(patch, dict):
        return {k: (uid if k == "runAsUser" and v is None and uid is not None else _set_user(v, uid))
                for k, v in patch.items()}
    if isinstance(patch, list):
        return [_set_user(v, uid) for v in patch]
    return patch


def _wrap(kind: str, fragment: dict[str, Any]) -> dict[str, Any]:
    for key in reversed(TEMPLATE_PATH.get(kind, ())):
        fragment = {key: fragment}
    return fragment


def _template(obj: dict[str, Any]) -> dict[str, Any]:
    template: Any = obj
    for key in TEMPLATE_PATH.get(obj.get("kind", ""), ()):
        template = template.get(key) if isinstance(template, dict) else None
    return template if isinstance(template, dict) else {}


def _container(spec: dict[str, Any], name: str | None) -> dict[str, Any] | None:
    for ctype in ("initContainers", "containers", "ephemeralContainers"):
        for c in spec.get(ctype) or ():
            if isinstance(c, dict) and c.get("name") == name:
                return c
    return None


def _volume_name(container: str, path: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "root"
    return f"{container}-{slug}"[:63].strip("-")


_UNITS = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4}


def _mebibytes(quantity: Any) -> float | None:
    match = re.fullmatch(r"([0-9.]+(?:e[0-9]+)?)([kMGT]i?|)", str(quantity).strip())
    if not match:
        return None
    return float(match.group(1)) * _UNITS[match.group(2)] / 1024**2


def _instead(finding: Finding, problem: str) -> str:
    if "privileged" in problem:
        return "Instead: drop `privileged` first (K8S-PRIVILEGED); then this setting is accepted."
    if "CAP_SYS_ADMIN" in problem:
        return "Instead: remove the CAP_SYS_ADMIN capability first (K8S-ADDED-CAPABILITIES)."
    return "Instead: change the conflicting setting named above first."


def _agent_note(finding: Finding, traits: list[str], least: str) -> str:
    where = f"{finding.kind} {finding.namespace or '-'}/{finding.name}"
    reason = f"node agent ({', '.join(traits)}): needs {finding.title.lower()} by design"
    return (f"{where} is a node agent ({', '.join(traits)}) and needs this by design; removing it breaks "
            f"the agent. Least privilege that still works: {least}. Or accept the risk in exceptions.yaml: "
            f"{{rule: {finding.rule}, namespace: {finding.namespace or '*'}, kind: {finding.kind}, "
            f"name: {finding.name}, reason: \"{reason}\"}}")

