"""The API resources the test server serves: enough of a real cluster for kubectl and us."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ApiResource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ("get", "list", "watch")

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    def discovery(self) -> dict:
        return {"name": self.plural, "singularName": self.singular, "namespaced": self.namespaced,
                "kind": self.kind, "verbs": list(self.verbs), "shortNames": list(self.short)}


def _r(group: str, version: str, spec: str, namespaced: bool) -> list[ApiResource]:
    """`Kind:plural:short,short` entries separated by spaces."""
    out = []
    for entry in spec.split():
        kind, plural, *short = entry.split(":")
        out.append(ApiResource(group, version, kind, plural, namespaced,
                               tuple(short[0].split(",")) if short else ()))
    return out


RESOURCES: tuple[ApiResource, ...] = (
    *_r("", "v1", "Pod:pods:po Service:services:svc ServiceAccount:serviceaccounts:sa "
                  "ConfigMap:configmaps:cm Secret:secrets PersistentVolumeClaim:persistentvolumeclaims:pvc "
                  "ReplicationController:replicationcontrollers:rc ResourceQuota:resourcequotas:quota "
                  "LimitRange:limitranges:limits Event:events:ev Endpoints:endpoints:ep", True),
    *_r("", "v1", "Namespace:namespaces:ns Node:nodes:no PersistentVolume:persistentvolumes:pv", False),
    *_r("apps", "v1", "Deployment:deployments:deploy StatefulSet:statefulsets:sts DaemonSet:daemonsets:ds "
                      "ReplicaSet:replicasets:rs ControllerRevision:controllerrevisions", True),
    *_r("batch", "v1", "Job:jobs CronJob:cronjobs:cj", True),
    *_r("rbac.authorization.k8s.io", "v1", "Role:roles RoleBinding:rolebindings", True),
    *_r("rbac.authorization.k8s.io", "v1", "ClusterRole:clusterroles ClusterRoleBinding:clusterrolebindings", False),
    *_r("networking.k8s.io", "v1", "NetworkPolicy:networkpolicies:netpol Ingress:ingresses:ing", True),
    *_r("networking.k8s.io", "v1", "IngressClass:ingressclasses", False),
    *_r("policy", "v1", "PodDisruptionBudget:poddisruptionbudgets:pdb", True),
    *_r("admissionregistration.k8s.io", "v1",
        "ValidatingWebhookConfiguration:validatingwebhookconfigurations "
        "MutatingWebhookConfiguration:mutatingwebhookconfigurations "
        "ValidatingAdmissionPolicy:validatingadmissionpolicies "
        "ValidatingAdmissionPolicyBinding:validatingadmissionpolicybindings", False),
    *_r("storage.k8s.io", "v1", "StorageClass:storageclasses:sc", False),
    *_r("node.k8s.io", "v1", "RuntimeClass:runtimeclasses", False),
    *_r("coordination.k8s.io", "v1", "Lease:leases", True),
    *_r("autoscaling", "v2", "HorizontalPodAutoscaler:horizontalpodautoscalers:hpa", True),
    *_r("apiextensions.k8s.io", "v1", "CustomResourceDefinition:customresourcedefinitions:crd,crds", False),
    # The PolicyReport CRDs (wgpolicyk8s.io), served as a cluster with them installed serves them.
    *_r("wgpolicyk8s.io", "v1alpha2", "PolicyReport:policyreports:polr", True),
    *_r("wgpolicyk8s.io", "v1alpha2", "ClusterPolicyReport:clusterpolicyreports:cpolr", False),
    ApiResource("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False,
                verbs=("create",)),
    ApiResource("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", False,
                verbs=("create",)),
)

BY_KIND = {(r.group, r.kind): r for r in RESOURCES}
BY_PLURAL = {(r.group, r.plural): r for r in RESOURCES}
