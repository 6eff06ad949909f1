"""Which identity a workload's pods carry: its ServiceAccount token, and cloud identities.

The token is mounted when automounting is effective — the pod spec's
`automountServiceAccountToken` wins over the ServiceAccount's, and both default to true —
or when a projected `serviceAccountToken` volume without a foreign `audience` asks for one.
Cloud identities (AWS IRSA, GKE Workload Identity, Azure Workload Identity) hang off the
ServiceAccount's annotations and do not need the API token at all: the IRSA webhook
projects its own token and GKE answers from the node's metadata server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kspm_tui.graph.rbac import Subject
from kspm_tui.snapshot import Snapshot, Workload

# annotation on the ServiceAccount → provider
CLOUD_ANNOTATIONS = {
    "eks.amazonaws.com/role-arn": "aws",
    "iam.gke.io/gcp-service-account": "gcp",
    "azure.workload.identity/client-id": "azure",
}
AZURE_POD_LABEL = "azure.workload.identity/use"
API_AUDIENCES = ("", "https://kubernetes.default.svc", "https://kubernetes.default.svc.cluster.local",
                 "kubernetes", "api")


@dataclass(frozen=True, slots=True)
class TokenMount:
    service_account: Subject
    mounted: bool
    by_automount: bool  # cut by `automountServiceAccountToken: false` on the pod spec
    evidence: str


@dataclass(frozen=True, slots=True)
class CloudIdentity:
    provider: str
    identity: str
    annotation: str
    service_account: Subject

    def facts(self) -> dict[str, str]:
        return {"provider": self.provider, "identity": self.identity, "annotation": self.annotation,
                "serviceAccount": str(self.service_account)}


NO_CLOUD_IDENTITY = {"provider": "", "identity": "", "annotation": "", "serviceAccount": ""}


def service_account_name(spec: dict[str, Any]) -> str:
    return spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"


def service_account_of(snapshot: Snapshot, workload: Workload) -> tuple[Subject, dict[str, Any] | None]:
    name = service_account_name(workload.template["spec"])
    subject = Subject("ServiceAccount", name, workload.namespace or "default")
    item = snapshot.get("ServiceAccount", subject.namespace, name)
    return subject, item.obj if item else None


def token_mount(snapshot: Snapshot, workload: Workload) -> TokenMount:
    spec = workload.template["spec"]
    subject, sa = service_account_of(snapshot, workload)
    for volume in spec.get("volumes") or ():
        for source in ((volume or {}).get("projected") or {}).get("sources") or ():
            token = (source or {}).get("serviceAccountToken")
            if isinstance(token, dict) and (token.get("audience") or "") in API_AUDIENCES:
                return TokenMount(subject, True, False,
                                  f"projected volume {volume.get('name')} mounts a token of {subject}")
    if "automountServiceAccountToken" in spec:
        mounted = spec["automountServiceAccountToken"] is not False
        where = f"the pod spec sets automountServiceAccountToken to {str(mounted).lower()}"
    elif sa is not None and "automountServiceAccountToken" in sa:
        mounted = sa["automountServiceAccountToken"] is not False
        where = f"{subject} sets automountServiceAccountToken to {str(mounted).lower()}"
    else:
        mounted, where = True, "automountServiceAccountToken is unset (defaults to true)"
    return TokenMount(subject, mounted, mounted, f"mounts the token of {subject}: {where}" if mounted
                      else f"token of {subject} not mounted: {where}")


def cloud_identity(snapshot: Snapshot, workload: Workload) -> CloudIdentity | None:
    subject, sa = service_account_of(snapshot, workload)
    annotations = ((sa or {}).get("metadata") or {}).get("annotations") or {}
    pod_labels = (workload.template.get("metadata") or {}).get("labels") or {}
    for annotation, provider in CLOUD_ANNOTATIONS.items():
        value = annotations.get(annotation)
        if not value:
            continue
        if provider == "azure" and str(pod_labels.get(AZURE_POD_LABEL, "")).lower() != "true":
            continue  # the Azure webhook injects credentials only into pods that opt in
        return CloudIdentity(provider, str(value), annotation, subject)
    return None
