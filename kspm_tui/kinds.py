"""Built-in Kubernetes kinds: which exist, which are namespaced, which carry pod templates.

Used to reject typos (`kind: Deploymnet` in `apps/v1`) while accepting custom resources
from any other API group, and to find the pod template inside each workload kind.
"""

from __future__ import annotations

from typing import Any

# group → kinds served by the built-in API (any version of the group).
BUILTIN: dict[str, frozenset[str]] = {
    "": frozenset(
        "Pod Service ServiceAccount Namespace ConfigMap Secret Node PersistentVolume "
        "PersistentVolumeClaim ReplicationController ResourceQuota LimitRange Endpoints Event "
        "PodTemplate ComponentStatus Binding".split()
    ),
    "apps": frozenset("Deployment StatefulSet DaemonSet ReplicaSet ControllerRevision".split()),
    "batch": frozenset(["Job", "CronJob"]),
    "rbac.authorization.k8s.io": frozenset(
        "Role ClusterRole RoleBinding ClusterRoleBinding".split()
    ),
    "networking.k8s.io": frozenset(
        "NetworkPolicy Ingress IngressClass IPAddress ServiceCIDR".split()
    ),
    "policy": frozenset(["PodDisruptionBudget", "Eviction"]),
    "admissionregistration.k8s.io": frozenset(
        "ValidatingWebhookConfiguration MutatingWebhookConfiguration "
        "ValidatingAdmissionPolicy ValidatingAdmissionPolicyBinding "
        "MutatingAdmissionPolicy MutatingAdmissionPolicyBinding".split()
    ),
    "apiextensions.k8s.io": frozenset(["CustomResourceDefinition"]),
    "storage.k8s.io": frozenset(
        "StorageClass VolumeAttachment CSIDriver CSINode CSIStorageCapacity".split()
    ),
    "autoscaling": frozenset(["HorizontalPodAutoscaler"]),
    "certificates.k8s.io": frozenset(["CertificateSigningRequest", "ClusterTrustBundle"]),
    "coordination.k8s.io": frozenset(["Lease"]),
    "discovery.k8s.io": frozenset(["EndpointSlice"]),
    "scheduling.k8s.io": frozenset(["PriorityClass"]),
    "node.k8s.io": frozenset(["RuntimeClass"]),
    "events.k8s.io": frozenset(["Event"]),
    "apiregistration.k8s.io": frozenset(["APIService"]),
    "flowcontrol.apiserver.k8s.io": frozenset(["FlowSchema", "PriorityLevelConfiguration"]),
    "meta.k8s.io": frozenset(["PartialObjectMetadata", "Table"]),
    "authorization.k8s.io": frozenset(
        "SelfSubjectAccessReview SelfSubjectRulesReview SubjectAccessReview "
        "LocalSubjectAccessReview".split()
    ),
    "authentication.k8s.io": frozenset(["TokenReview", "SelfSubjectReview"]),
}

CLUSTER_SCOPED = frozenset(
    "Namespace Node PersistentVolume ClusterRole ClusterRoleBinding IngressClass "
    "ValidatingWebhookConfiguration MutatingWebhookConfiguration ValidatingAdmissionPolicy "
    "ValidatingAdmissionPolicyBinding MutatingAdmissionPolicy MutatingAdmissionPolicyBinding "
    "CustomResourceDefinition StorageClass VolumeAttachment CSIDriver CSINode PriorityClass "
    "RuntimeClass APIService FlowSchema PriorityLevelConfiguration CertificateSigningRequest "
    "ClusterTrustBundle ComponentStatus IPAddress ServiceCIDR".split()
)

# kind → path (list of keys) from the object to its pod spec's parent (the "template").
TEMPLATE_PATH: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "PodTemplate": ("template",),
}

# Workload kinds in a fixed order: a scan visits workloads kind by kind, and iterating the
# frozenset would make that order (and what depends on it: the first error reported for a rule,
# the key order of `excluded.by_severity`) change with each process's string hash seed.
WORKLOAD_ORDER: tuple[str, ...] = tuple(kind for kind in TEMPLATE_PATH if kind != "PodTemplate")
WORKLOAD_KINDS = frozenset(WORKLOAD_ORDER)


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


_APPS = "Deployment DaemonSet ReplicaSet StatefulSet ControllerRevision"
_PSA = "Pod Security Admission namespace labels"
# apiVersion → (the Kubernetes release that stopped serving it, kinds it served → what replaces them);
# from the Kubernetes deprecated API migration guide.
REMOVED: dict[str, tuple[str, dict[str, str]]] = {
    "extensions/v1beta1": ("1.16", {**dict.fromkeys("Deployment DaemonSet ReplicaSet".split(), "apps/v1"),
                                    "NetworkPolicy": "networking.k8s.io/v1", "PodSecurityPolicy": _PSA}),
    "extensions/v1beta1#Ingress": ("1.22", {"Ingress": "networking.k8s.io/v1"}),
    "apps/v1beta1": ("1.16", dict.fromkeys(_APPS.split(), "apps/v1")),
    "apps/v1beta2": ("1.16", dict.fromkeys(_APPS.split(), "apps/v1")),
    "batch/v2alpha1": ("1.21", {"CronJob": "batch/v1"}),
    "networking.k8s.io/v1beta1": ("1.22", dict.fromkeys(["Ingress", "IngressClass"], "networking.k8s.io/v1")),
    "rbac.authorization.k8s.io/v1beta1": ("1.22", dict.fromkeys(BUILTIN["rbac.authorization.k8s.io"],
                                                                "rbac.authorization.k8s.io/v1")),
    "rbac.authorization.k8s.io/v1alpha1": ("1.22", dict.fromkeys(BUILTIN["rbac.authorization.k8s.io"],
                                                                 "rbac.authorization.k8s.io/v1")),
    "admissionregistration.k8s.io/v1beta1": ("1.22", dict.fromkeys(
        ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"], "admissionregistration.k8s.io/v1")),
    "apiextensions.k8s.io/v1beta1": ("1.22", {"CustomResourceDefinition": "apiextensions.k8s.io/v1"}),
    "apiregistration.k8s.io/v1beta1": ("1.22", {"APIService": "apiregistration.k8s.io/v1"}),
    "certificates.k8s.io/v1beta1": ("1.22", {"CertificateSigningRequest": "certificates.k8s.io/v1"}),
    "coordination.k8s.io/v1beta1": ("1.22", {"Lease": "coordination.k8s.io/v1"}),
    "storage.k8s.io/v1beta1": ("1.22", dict.fromkeys("CSIDriver CSINode StorageClass VolumeAttachment".split(),
                                                     "storage.k8s.io/v1")),
    "scheduling.k8s.io/v1beta1": ("1.22", {"PriorityClass": "scheduling.k8s.io/v1"}),
    "batch/v1beta1": ("1.25", {"CronJob": "batch/v1"}),
    "discovery.k8s.io/v1beta1": ("1.25", {"EndpointSlice": "discovery.k8s.io/v1"}),
    "events.k8s.io/v1beta1": ("1.25", {"Event": "events.k8s.io/v1"}),
    "autoscaling/v2beta1": ("1.25", {"HorizontalPodAutoscaler": "autoscaling/v2"}),
    "policy/v1beta1": ("1.25", {"PodDisruptionBudget": "policy/v1", "PodSecurityPolicy": _PSA}),
    "node.k8s.io/v1beta1": ("1.25", {"RuntimeClass": "node.k8s.io/v1"}),
    "autoscaling/v2beta2": ("1.26", {"HorizontalPodAutoscaler": "autoscaling/v2"}),
    "flowcontrol.apiserver.k8s.io/v1beta1": ("1.26", dict.fromkeys(
        ["FlowSchema", "PriorityLevelConfiguration"], "flowcontrol.apiserver.k8s.io/v1")),
    "storage.k8s.io/v1beta1#CSIStorageCapacity": ("1.27", {"CSIStorageCapacity": "storage.k8s.io/v1"}),
    "flowcontrol.apiserver.k8s.io/v1beta2": ("1.29", dict.fromkeys(
        ["FlowSchema", "PriorityLevelConfiguration"], "flowcontrol.apiserver.k8s.io/v1")),
    "flowcontrol.apiserver.k8s.io/v1beta3": ("1.32", dict.fromkeys(
        ["FlowSchema", "PriorityLevelConfiguration"], "flowcontrol.apiserver.k8s.io/v1")),
}


def removed_api(api_version: str, kind: str) -> str | None:
    """'removed in Kubernetes 1.X (use ...)' for a kind/apiVersion the API no longer serves."""
    for key in (f"{api_version}#{kind}", api_version):
        removed = REMOVED.get(key)
        if removed is not None and kind in removed[1]:
            return (f"{kind} {api_version} was removed in Kubernetes {removed[0]} "
                    f"(use {removed[1][kind]}); current clusters refuse it")
    return None


def check_kind(api_version: str, kind: str) -> str | None:
    """Return an error message for a removed API version, or a built-in group asked for a kind
    it does not serve (a typo)."""
    if removed := removed_api(api_version, kind):
        return removed
    group = group_of(api_version)
    served = BUILTIN.get(group)
    if served is None or kind in served or kind.endswith("List"):
        return None
    shown = api_version or '""'
    return f"unknown kind {kind!r} in apiVersion {shown} (a typo? {group or 'core'} serves no such kind)"


def pod_template(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The object's pod template ({metadata, spec}); for a Pod, the Pod itself."""
    path = TEMPLATE_PATH.get(obj.get("kind", ""))
    if path is None:
        return None
    node: Any = obj
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return None
    return node if isinstance(node, dict) and isinstance(node.get("spec"), dict) else None
