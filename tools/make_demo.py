"""Generate the bundled demo cluster, `kspm_tui/demo/*.yaml`, deterministically.

The demo is what `kubectl get -o yaml` would print for "acme-prod-eu", a small kubeadm
cluster on AWS: defaulted specs, status sections, owner chains with matching uids, the
labels and annotations helm and the controllers set. It is generated rather than hand
written so that those chains stay consistent; uids come from uuid5, timestamps from fixed
offsets, so every run writes the same bytes (a test compares the committed files with a
fresh run). The intended findings, attack paths and decoys are listed in
`kspm_tui/demo/README.md`.

    python tools/make_demo.py            # rewrite kspm_tui/demo/*.yaml
"""

from __future__ import annotations

import hashlib
import sys
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kspm_tui.yamlio import dump_kubectl_yaml

OUT_DIR = ROOT / "kspm_tui" / "demo"
CLUSTER = "acme-prod-eu"
K8S_VERSION = "v1.29.6"
UID_NAMESPACE = uuid.UUID("5b0c6c52-9d43-4a8e-8f3c-6a1f2e0d7b11")
BORN = datetime(2024, 2, 20, 9, 41, 7, tzinfo=UTC)  # kubeadm init
NOW = datetime(2025, 11, 18, 9, 30, 0, tzinfo=UTC)  # when the snapshot was taken
DOMAIN = "acme.example"
ACCOUNT = "123456789012"
NLB = "k8s-ingressn-ingressn-7f3a9c1e2d-4b5d6e7f8a9b0c1d.elb.eu-west-1.amazonaws.com"
RAND = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet of Kubernetes' generated name suffixes

Obj = dict[str, Any]


# -- determinism -------------------------------------------------------------------------
def digest(*parts: object) -> bytes:
    return hashlib.sha256("/".join(map(str, parts)).encode()).digest()


def hexid(*parts: object, n: int = 64) -> str:
    return digest(*parts).hex()[:n]


def number(*parts: object, mod: int) -> int:
    return int.from_bytes(digest(*parts)[:8], "big") % mod


def suffix(*parts: object, n: int = 5) -> str:
    raw = digest(*parts)
    return "".join(RAND[b % len(RAND)] for b in raw[:n])


def uid(kind: str, namespace: str | None, name: str) -> str:
    return str(uuid.uuid5(UID_NAMESPACE, f"{kind}/{namespace or ''}/{name}"))


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def days_ago(days: float, *jitter: object) -> datetime:
    """A moment `days` before the snapshot, a stable few minutes later per object (so an
    object is never older than a namespace or owner of the same age), never before the cluster."""
    moment = NOW - timedelta(days=days) + timedelta(seconds=number(*jitter, mod=3000) if jitter else 0)
    return max(moment, BORN + timedelta(minutes=1, seconds=number("born", *jitter, mod=600)))


def image_digest(image: str) -> str:
    return "sha256:" + hexid("image", image.split("@")[0])


def image_ref(image: str) -> str:
    """The imageID the kubelet reports: repository@digest, with docker.io spelled out."""
    name = image.split("@")[0]
    repo = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
    if "." not in repo.split("/")[0] and ":" not in repo.split("/")[0]:
        repo = "docker.io/" + (repo if "/" in repo else "library/" + repo)
    return f"{repo}@{image.split('@')[1] if '@' in image else image_digest(image)}"


def pinned(image: str) -> str:
    return f"{image}@{image_digest(image)}"


# -- metadata ----------------------------------------------------------------------------
def meta(kind: str, name: str, namespace: str | None, created: datetime, *,
         labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None,
         owner: Obj | None = None, generation: int | None = None,
         finalizers: list[str] | None = None) -> Obj:
    out: Obj = {
        "creationTimestamp": ts(created),
        "name": name,
        "resourceVersion": str(1_000 + number("rv", kind, namespace, name, mod=48_000_000)),
        "uid": uid(kind, namespace, name),
    }
    if namespace:
        out["namespace"] = namespace
    if labels:
        out["labels"] = dict(labels)
    if annotations:
        out["annotations"] = dict(annotations)
    if generation is not None:
        out["generation"] = generation
    if finalizers:
        out["finalizers"] = finalizers
    if owner is not None:
        out["ownerReferences"] = [owner_ref(owner)]
    return out


def owner_ref(owner: Obj) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "blockOwnerDeletion": True,
        "controller": True,
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }


def helm(chart: str, version: str, app_version: str, release: str, namespace: str,
         name: str, component: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Labels and annotations helm 3 puts on the objects of a release."""
    labels = {
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/version": app_version,
        "helm.sh/chart": f"{chart}-{version}",
    }
    if component:
        labels["app.kubernetes.io/component"] = component
    return labels, {"meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": namespace}


def app(name: str, version: str, part_of: str | None = None, component: str | None = None) -> dict[str, str]:
    """Labels of the in-house manifests (kustomize + Argo-less CI `kubectl apply`)."""
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/version": version}
    if part_of:
        labels["app.kubernetes.io/part-of"] = part_of
    if component:
        labels["app.kubernetes.io/component"] = component
    return labels


def selector_labels(labels: dict[str, str]) -> dict[str, str]:
    keep = ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
            "app", "k8s-app", "component", "name")
    return {k: v for k, v in labels.items() if k in keep}


# -- containers ------------------------------------------------------------------------
def ctr(name: str, image: str, *, ports: list[Any] | tuple[Any, ...] = (), env: dict[str, Any] | None = None,
        res: Obj | None = None, probe: tuple[Any, ...] | None = None, sc: Obj | None = None,
        mounts: dict[str, str] | None = None, args: list[str] | None = None,
        command: list[str] | None = None, pull: str | None = None, **extra: Any) -> Obj:
    """A container as the API server stores it (defaults filled in)."""
    out: Obj = {"name": name, "image": image}
    if command:
        out["command"] = command
    if args:
        out["args"] = args
    if env:
        out["env"] = [env_var(k, v) for k, v in env.items()]
    if ports:
        out["ports"] = [port(p) for p in ports]
    if probe:
        out.update(probes(*probe))
    out["resources"] = res or {}
    if sc is not None:
        out["securityContext"] = sc
    if mounts:
        out["volumeMounts"] = [mount(path, vol) for path, vol in mounts.items()]
    out.update(extra)
    tag = image.split("@")[0].rsplit("/", 1)[-1]
    out["imagePullPolicy"] = pull or ("Always" if ":" not in tag or tag.endswith(":latest") else "IfNotPresent")
    out["terminationMessagePath"] = "/dev/termination-log"
    out["terminationMessagePolicy"] = "File"
    return out


def mount(path: str, volume: str) -> Obj:
    out: Obj = {"mountPath": path.rstrip("!"), "name": volume}
    if path.endswith("!"):
        out["readOnly"] = True
    return out


def env_var(name: str, value: Any) -> Obj:
    if isinstance(value, tuple):
        source, *ref = value
        if source == "secret":
            return {"name": name, "valueFrom": {"secretKeyRef": {"key": ref[1], "name": ref[0]}}}
        if source == "configmap":
            return {"name": name, "valueFrom": {"configMapKeyRef": {"key": ref[1], "name": ref[0]}}}
        return {"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": ref[0]}}}
    return {"name": name, "value": value}


def port(spec: Any) -> Obj:
    if isinstance(spec, int):
        return {"containerPort": spec, "protocol": "TCP"}
    name, number_, *rest = spec
    out: Obj = {"containerPort": number_, "name": name, "protocol": "TCP"}
    if rest:
        out["hostPort"] = rest[0]
    return out


def probes(kind: str, target: Any, port_: Any = None, delay: int = 0) -> Obj:
    """Liveness + readiness probes of the same kind (httpGet path/port, tcp port, exec cmd)."""
    if kind == "http":
        action: Obj = {"httpGet": {"path": target, "port": port_, "scheme": "HTTP"}}
    elif kind == "tcp":
        action = {"tcpSocket": {"port": target}}
    else:
        action = {"exec": {"command": target}}
    common = {"failureThreshold": 3, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1}
    live = {**action, **common, **({"initialDelaySeconds": delay} if delay else {})}
    return {"livenessProbe": live, "readinessProbe": {**action, **common}}


def res(cpu: str | None, mem: str | None, lcpu: str | None = None, lmem: str | None = None) -> Obj:
    out: Obj = {}
    limits = {k: v for k, v in (("cpu", lcpu), ("memory", lmem)) if v}
    requests = {k: v for k, v in (("cpu", cpu), ("memory", mem)) if v}
    if limits:
        out["limits"] = limits
    if requests:
        out["requests"] = requests
    return out


HARDENED = {  # restricted-compliant container securityContext
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
}


def pod_sc(user: int | None = None, *, seccomp: bool = True, fs_group: int | None = None) -> Obj:
    out: Obj = {}
    if user is not None:
        out.update({"runAsGroup": user, "runAsNonRoot": True, "runAsUser": user})
    if fs_group is not None:
        out["fsGroup"] = fs_group
    if seccomp:
        out["seccompProfile"] = {"type": "RuntimeDefault"}
    return out


def pod_spec(containers: list[Obj], *, sa: str | None = None, sc: Obj | None = None,
             volumes: list[Obj] | None = None, restart: str = "Always", init: list[Obj] | None = None,
             grace: int = 30, **extra: Any) -> Obj:
    """A pod spec with the API server's defaults, as stored in templates and Pods."""
    spec: Obj = {"containers": containers}
    if init:
        spec["initContainers"] = init
    spec.update({
        "dnsPolicy": "ClusterFirstWithHostNet" if extra.get("hostNetwork") else "ClusterFirst",
        "restartPolicy": restart,
        "schedulerName": "default-scheduler",
        "securityContext": sc or {},
        "terminationGracePeriodSeconds": grace,
    })
    if sa:
        spec["serviceAccountName"] = sa
        spec["serviceAccount"] = sa
    if volumes:
        spec["volumes"] = volumes
    spec.update(extra)
    return spec


def vol(name: str, kind: str, value: Any = None, **extra: Any) -> Obj:
    if kind == "hostPath":
        return {"hostPath": {"path": value, "type": extra.get("type", "")}, "name": name}
    if kind == "emptyDir":
        return {"emptyDir": value or {}, "name": name}
    if kind == "configMap":
        return {"configMap": {"defaultMode": 420, "name": value}, "name": name}
    if kind == "secret":
        return {"name": name, "secret": {"defaultMode": 420, "secretName": value}}
    return {"name": name, "persistentVolumeClaim": {"claimName": value}}


# -- the cluster builder -------------------------------------------------------------------
class Cluster:
    """Collects objects and wires their owners, pods, nodes and statuses consistently."""

    def __init__(self) -> None:
        self.objects: list[Obj] = []
        self.nodes: list[Obj] = []

    def add(self, obj: Obj) -> Obj:
        self.objects.append(obj)
        return obj

    # nodes ------------------------------------------------------------------------------
    def node(self, name: str, ip: str, zone: str, itype: str, created: datetime, *,
             control_plane: bool = False, labels: dict[str, str] | None = None,
             taints: list[Obj] | None = None) -> Obj:
        all_labels = {
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/instance-type": itype,
            "beta.kubernetes.io/os": "linux",
            "failure-domain.beta.kubernetes.io/region": "eu-west-1",
            "failure-domain.beta.kubernetes.io/zone": zone,
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "node.kubernetes.io/instance-type": itype,
            "topology.kubernetes.io/region": "eu-west-1",
            "topology.kubernetes.io/zone": zone,
            **(labels or {}),
        }
        annotations = {
            "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
            "node.alpha.kubernetes.io/ttl": "0",
            "projectcalico.org/IPv4Address": f"{ip}/20",
            "projectcalico.org/IPv4IPIPTunnelAddr": self.pod_cidr(name).replace(".0/24", ".1"),
            "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        }
        cpu, mem = ("4", "16101324Ki") if itype.endswith("xlarge") else ("2", "7941464Ki")
        heartbeat = ts(NOW - timedelta(seconds=41))
        conditions = [
            {"lastHeartbeatTime": ts(created + timedelta(seconds=40)), "lastTransitionTime": ts(created + timedelta(seconds=40)),
             "message": "Calico is running on this node", "reason": "CalicoIsUp", "status": "False",
             "type": "NetworkUnavailable"},
        ] + [
            {"lastHeartbeatTime": heartbeat, "lastTransitionTime": ts(created + timedelta(seconds=30)),
             "message": msg, "reason": reason, "status": status, "type": ctype}
            for ctype, status, reason, msg in (
                ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                ("Ready", "True", "KubeletReady", "kubelet is posting ready status. AppArmor enabled"),
            )
        ]
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": meta("Node", name, None, created, labels=all_labels, annotations=annotations),
            "spec": {"podCIDR": self.pod_cidr(name), "podCIDRs": [self.pod_cidr(name)],
                     "providerID": f"aws:///{zone}/i-0{hexid('instance', name, n=16)}",
                     **({"taints": taints} if taints else {})},
            "status": {
                "addresses": [
                    {"address": ip, "type": "InternalIP"},
                    {"address": name, "type": "Hostname"},
                    {"address": f"ip-{ip.replace('.', '-')}.eu-west-1.compute.internal", "type": "InternalDNS"},
                ],
                "allocatable": {"cpu": cpu, "ephemeral-storage": "93478772582", "hugepages-1Gi": "0",
                                "hugepages-2Mi": "0", "memory": mem, "pods": "110"},
                "capacity": {"cpu": cpu, "ephemeral-storage": "101430960Ki", "hugepages-1Gi": "0",
                             "hugepages-2Mi": "0", "memory": mem, "pods": "110"},
                "conditions": conditions,
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "architecture": "amd64", "bootID": str(uuid.uuid5(UID_NAMESPACE, "boot/" + name)),
                    "containerRuntimeVersion": "containerd://1.7.18", "kernelVersion": "6.5.0-1022-aws",
                    "kubeProxyVersion": K8S_VERSION, "kubeletVersion": K8S_VERSION,
                    "machineID": hexid("machine", name, n=32), "operatingSystem": "linux",
                    "osImage": "Ubuntu 22.04.4 LTS",
                    "systemUUID": "ec2" + str(uuid.uuid5(UID_NAMESPACE, "system/" + name))[3:],
                },
            },
        }
        node["_ip"] = ip
        node["_control_plane"] = control_plane
        self.nodes.append(node)
        return self.add(node)

    @staticmethod
    def pod_cidr(node: str) -> str:
        return f"192.168.{16 * (1 + number('cidr', node, mod=15))}.0/24"

    def workers(self) -> list[Obj]:
        return [n for n in self.nodes if not n["_control_plane"]]

    def place(self, *key: object) -> Obj:
        workers = self.workers()
        return workers[number("place", *key, mod=len(workers))]

    def pod_ip(self, node: Obj, *key: object) -> str:
        base = self.pod_cidr(node["metadata"]["name"]).rsplit(".", 1)[0]
        return f"{base}.{2 + number('ip', *key, mod=250)}"

    # pods --------------------------------------------------------------------------------
    def pod(self, name: str, namespace: str, template: Obj, created: datetime, *,
            owner: Obj | None = None, node: Obj | None = None, labels: dict[str, str] | None = None,
            annotations: dict[str, str] | None = None, done: datetime | None = None,
            extra_spec: Obj | None = None) -> Obj:
        """A Pod from a template, as the kubelet reports it: placed, started, Ready (or Completed)."""
        node = node or self.place(namespace, name)
        joined = datetime.fromisoformat(node["metadata"]["creationTimestamp"])
        if created < joined:  # the workers were replaced: everything on them was rescheduled then
            created = joined + timedelta(minutes=4, seconds=number("resched", namespace, name, mod=900))
        tmeta = template.get("metadata") or {}
        spec = {**template["spec"], **(extra_spec or {})}
        spec["containers"] = [dict(c) for c in spec["containers"]]
        host_network = bool(spec.get("hostNetwork"))
        if not owner_is_node(owner):  # mirror Pods of static Pods have no ServiceAccount
            self.admit(spec, namespace, name)
        spec["nodeName"] = node["metadata"]["name"]
        spec["enableServiceLinks"] = True
        spec["preemptionPolicy"] = "PreemptLowerPriority"
        spec["priority"] = 2000001000 if spec.get("priorityClassName") == "system-node-critical" else (
            2000000000 if spec.get("priorityClassName") == "system-cluster-critical" else 0)
        tolerations = list(spec.get("tolerations") or [])
        tolerates_all = any(t.get("operator") == "Exists" and not t.get("key")
                            and t.get("effect") in (None, "NoExecute") for t in tolerations)
        spec["tolerations"] = tolerations + [  # the DefaultTolerationSeconds admission plugin
            {"effect": "NoExecute", "key": f"node.kubernetes.io/{k}", "operator": "Exists",
             "tolerationSeconds": 300} for k in ("not-ready", "unreachable")
            if not tolerates_all and not any(t.get("key") == f"node.kubernetes.io/{k}" for t in tolerations)
        ]
        if not spec["tolerations"]:
            del spec["tolerations"]
        spec = {k: spec[k] for k in sorted(spec)}
        started = created + timedelta(seconds=2 + number("start", namespace, name, mod=6))
        ip = node["_ip"] if host_network else self.pod_ip(node, namespace, name)
        pod_labels = {**(tmeta.get("labels") or {}), **(labels or {})}
        pod_annotations = {**(tmeta.get("annotations") or {}), **(annotations or {})}
        if not host_network and not owner_is_node(owner):
            pod_annotations.update({
                "cni.projectcalico.org/containerID": hexid("cid", namespace, name),
                "cni.projectcalico.org/podIP": f"{ip}/32",
                "cni.projectcalico.org/podIPs": f"{ip}/32",
            })
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": meta("Pod", name, namespace, created, labels=pod_labels,
                             annotations=pod_annotations or None, owner=owner),
            "spec": spec,
            "status": pod_status(spec, namespace, name, node, ip, started, done),
        }
        return self.add(pod)

    def admit(self, spec: Obj, namespace: str, name: str) -> None:
        """What admission adds to a Pod: its ServiceAccount, the API token volume, IRSA env."""
        spec.setdefault("serviceAccountName", "default")
        spec["serviceAccount"] = spec["serviceAccountName"]
        account = self.find("ServiceAccount", namespace, spec["serviceAccountName"]) or {}
        automount = spec.get("automountServiceAccountToken")
        if automount is None:
            automount = account.get("automountServiceAccountToken", True)
        if automount:
            token_volume = f"kube-api-access-{suffix('kaa', namespace, name)}"
            inject(spec, kube_api_access(token_volume), "/var/run/secrets/kubernetes.io/serviceaccount")
        role_arn = (account.get("metadata", {}).get("annotations") or {}).get("eks.amazonaws.com/role-arn")
        if role_arn:  # the EKS pod identity webhook
            inject(spec, {"name": "aws-iam-token", "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 86400,
                                         "path": "token"}}]}},
                "/var/run/secrets/eks.amazonaws.com/serviceaccount", env={
                    "AWS_STS_REGIONAL_ENDPOINTS": "regional", "AWS_DEFAULT_REGION": "eu-west-1",
                    "AWS_REGION": "eu-west-1", "AWS_ROLE_ARN": role_arn,
                    "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"})

    def find(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        for obj in self.objects:
            m = obj["metadata"]
            if obj["kind"] == kind and m["name"] == name and m.get("namespace") == namespace:
                return obj
        return None

    # workloads -------------------------------------------------------------------------
    def deployment(self, namespace: str, name: str, labels: dict[str, str], spec: Obj, *,
                   replicas: int = 1, age: float = 60, annotations: dict[str, str] | None = None,
                   history: list[tuple[str, str]] | None = None, pod_annotations: dict[str, str] | None = None,
                   ) -> Obj:
        """A Deployment, its current ReplicaSet with Pods, and older ReplicaSets scaled to 0.

        `history` lists (container name, older image) rollouts: each becomes an old
        ReplicaSet with that image, newest last.
        """
        sel = selector_labels(labels)
        template = {"metadata": {"creationTimestamp": None, "labels": dict(labels)}, "spec": spec}
        if pod_annotations:
            template["metadata"]["annotations"] = pod_annotations
        revisions = len(history or []) + 1
        created = days_ago(age, namespace, name)
        dep = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta("Deployment", name, namespace, created, labels=labels,
                             annotations={"deployment.kubernetes.io/revision": str(revisions), **(annotations or {})},
                             generation=revisions),
            "spec": {
                "progressDeadlineSeconds": 600,
                "replicas": replicas,
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": sel},
                "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
                "template": template,
            },
            "status": {
                "availableReplicas": replicas,
                "conditions": [
                    {"lastTransitionTime": ts(created + timedelta(minutes=1)),
                     "lastUpdateTime": ts(created + timedelta(minutes=1)),
                     "message": "Deployment has minimum availability.", "reason": "MinimumReplicasAvailable",
                     "status": "True", "type": "Available"},
                    {"lastTransitionTime": ts(created), "lastUpdateTime": ts(self.rollout(age, revisions, revisions, namespace, name)),
                     "message": f'ReplicaSet "{name}-{{hash}}" has successfully progressed.',
                     "reason": "NewReplicaSetAvailable", "status": "True", "type": "Progressing"},
                ],
                "observedGeneration": revisions,
                "readyReplicas": replicas,
                "replicas": replicas,
                "updatedReplicas": replicas,
            },
        }
        self.add(dep)
        for revision, (cname, old_image) in enumerate(history or [], 1):
            old_spec = {**spec, "containers": [{**c, "image": old_image} if c["name"] == cname else c
                                               for c in spec["containers"]]}
            self.replicaset(dep, {"metadata": template["metadata"], "spec": old_spec}, revision, 0,
                            self.rollout(age, revision, revisions, namespace, name))
        rs_name = self.replicaset(dep, template, revisions, replicas,
                                  self.rollout(age, revisions, revisions, namespace, name))
        progressing = dep["status"]["conditions"][1]
        progressing["message"] = progressing["message"].replace(f"{name}-{{hash}}", rs_name)
        return dep

    @staticmethod
    def rollout(age: float, revision: int, revisions: int, *key: object) -> datetime:
        """When revision N of a workload was rolled out: spread between creation and a few days ago."""
        start = days_ago(age, *key)
        if revision == 1:
            return start
        span = max(age - 2, 1) * (revision - 1) / revisions
        return start + timedelta(days=span, seconds=number("rollout", revision, *key, mod=20000))

    def replicaset(self, owner: Obj | None, template: Obj, revision: int, replicas: int,
                   created: datetime, *, namespace: str | None = None, name: str | None = None,
                   labels: dict[str, str] | None = None) -> str:
        """A ReplicaSet (owned by a Deployment, or standalone) with its Pods."""
        namespace = namespace or owner["metadata"]["namespace"]  # type: ignore[index]
        if owner is not None:
            phash = suffix("pth", namespace, owner["metadata"]["name"], revision, template["spec"]["containers"][0]["image"], n=10)
            name = f"{owner['metadata']['name']}-{phash}"
            template = {"metadata": {**template["metadata"],
                                     "labels": {**template["metadata"]["labels"], "pod-template-hash": phash}},
                        "spec": template["spec"]}
            sel = {**owner["spec"]["selector"]["matchLabels"], "pod-template-hash": phash}
            rs_labels = template["metadata"]["labels"]
            annotations = {"deployment.kubernetes.io/desired-replicas": str(owner["spec"]["replicas"]),
                           "deployment.kubernetes.io/max-replicas": str(owner["spec"]["replicas"] + max(1, -(-owner["spec"]["replicas"] // 4))),
                           "deployment.kubernetes.io/revision": str(revision)}
        else:
            assert name is not None
            sel = selector_labels(template["metadata"]["labels"])
            rs_labels = labels or template["metadata"]["labels"]
            annotations = None
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": meta("ReplicaSet", name, namespace, created, labels=rs_labels, annotations=annotations,
                             owner=owner, generation=1 if replicas else 2),
            "spec": {"replicas": replicas, "selector": {"matchLabels": sel}, "template": template},
            "status": ({"availableReplicas": replicas, "fullyLabeledReplicas": replicas,
                        "observedGeneration": 1, "readyReplicas": replicas, "replicas": replicas}
                       if replicas else {"observedGeneration": 2, "replicas": 0}),
        }
        self.add(rs)
        for i in range(replicas):
            pod_created = created + timedelta(seconds=1 + i)
            self.pod(f"{name}-{suffix('pod', namespace, name, i)}", namespace, template, pod_created, owner=rs)
        return name

    def statefulset(self, namespace: str, name: str, labels: dict[str, str], spec: Obj, *,
                    replicas: int = 1, age: float = 120, service: str | None = None,
                    claims: list[tuple[str, str]] | None = None, annotations: dict[str, str] | None = None) -> Obj:
        created = days_ago(age, namespace, name)
        revision = f"{name}-{suffix('sts', namespace, name, spec['containers'][0]['image'], n=10)}"
        template = {"metadata": {"creationTimestamp": None, "labels": dict(labels)}, "spec": spec}
        vcts = [{
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"creationTimestamp": None, "name": claim},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
                     "storageClassName": "gp3", "volumeMode": "Filesystem"},
            "status": {"phase": "Pending"},
        } for claim, size in claims or []]
        sts = {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": meta("StatefulSet", name, namespace, created, labels=labels, annotations=annotations,
                             generation=1),
            "spec": {
                "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
                "podManagementPolicy": "OrderedReady",
                "replicas": replicas,
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": selector_labels(labels)},
                "serviceName": service or name,
                "template": template,
                "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
                **({"volumeClaimTemplates": vcts} if vcts else {}),
            },
            "status": {"availableReplicas": replicas, "collisionCount": 0, "currentReplicas": replicas,
                       "currentRevision": revision, "observedGeneration": 1, "readyReplicas": replicas,
                       "replicas": replicas, "updateRevision": revision, "updatedReplicas": replicas},
        }
        self.add(sts)
        self.controller_revision(sts, revision, revision.rsplit("-", 1)[1])
        for i in range(replicas):
            pod_name = f"{name}-{i}"
            pod_created = days_ago(age / 3 + i * 0.01, namespace, pod_name)
            extra_volumes = [{"name": claim, "persistentVolumeClaim": {"claimName": f"{claim}-{pod_name}"}}
                             for claim, _ in claims or []]
            self.pod(pod_name, namespace, template, pod_created, owner=sts,
                     labels={"apps.kubernetes.io/pod-index": str(i), "controller-revision-hash": revision,
                             "statefulset.kubernetes.io/pod-name": pod_name},
                     extra_spec={"hostname": pod_name, "subdomain": service or name,
                                 **({"volumes": extra_volumes + list(spec.get("volumes") or [])} if claims else {})})
            for claim, size in claims or []:
                self.pvc(namespace, f"{claim}-{pod_name}", size, created + timedelta(seconds=5 + i),
                         {k: v for k, v in labels.items() if k in selector_labels(labels)})
        return sts

    def controller_revision(self, owner: Obj, name: str, hash_: str) -> Obj:
        """The revision a StatefulSet/DaemonSet controller records for its current template."""
        meta_ = owner["metadata"]
        return self.add({
            "apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": meta("ControllerRevision", name, meta_["namespace"],
                             datetime.fromisoformat(meta_["creationTimestamp"]),
                             labels={**owner["spec"]["selector"]["matchLabels"], "controller.kubernetes.io/hash": hash_},
                             owner=owner),
            "data": {"spec": {"template": {**owner["spec"]["template"], "$patch": "replace"}}},
            "revision": 1,
        })

    def pvc(self, namespace: str, name: str, size: str, created: datetime, labels: dict[str, str]) -> Obj:
        volume = f"pvc-{uid('PersistentVolume', None, namespace + '/' + name)}"
        return self.add({
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": meta("PersistentVolumeClaim", name, namespace, created, labels=labels, annotations={
                "pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
                "volume.beta.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
                "volume.kubernetes.io/selected-node": self.place(namespace, name)["metadata"]["name"],
                "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
            }, finalizers=["kubernetes.io/pvc-protection"]),
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
                     "storageClassName": "gp3", "volumeMode": "Filesystem", "volumeName": volume},
            "status": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}, "phase": "Bound"},
        })

    def daemonset(self, namespace: str, name: str, labels: dict[str, str], spec: Obj, *,
                  age: float = 200, all_nodes: bool = True, annotations: dict[str, str] | None = None) -> Obj:
        created = days_ago(age, namespace, name)
        revision = suffix("ds", namespace, name, spec["containers"][0]["image"], n=10)
        template = {"metadata": {"creationTimestamp": None, "labels": dict(labels)}, "spec": spec}
        nodes = self.nodes if all_nodes else self.workers()
        ds = {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": meta("DaemonSet", name, namespace, created, labels=labels,
                             annotations={"deprecated.daemonset.template.generation": "1", **(annotations or {})},
                             generation=1),
            "spec": {
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": selector_labels(labels)},
                "template": template,
                "updateStrategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}, "type": "RollingUpdate"},
            },
            "status": {"currentNumberScheduled": len(nodes), "desiredNumberScheduled": len(nodes),
                       "numberAvailable": len(nodes), "numberMisscheduled": 0, "numberReady": len(nodes),
                       "observedGeneration": 1, "updatedNumberScheduled": len(nodes)},
        }
        self.add(ds)
        self.controller_revision(ds, f"{name}-{revision}", revision)
        for node in nodes:
            node_name = node["metadata"]["name"]
            pod_name = f"{name}-{suffix('dspod', namespace, name, node_name)}"
            affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}]}}}
            tolerations = list(spec.get("tolerations") or []) + [
                {"effect": effect, "key": f"node.kubernetes.io/{key}", "operator": "Exists"}
                for key, effect in (("not-ready", "NoExecute"), ("unreachable", "NoExecute"),
                                    ("disk-pressure", "NoSchedule"), ("memory-pressure", "NoSchedule"),
                                    ("pid-pressure", "NoSchedule"), ("unschedulable", "NoSchedule"))
            ] + ([{"effect": "NoSchedule", "key": "node.kubernetes.io/network-unavailable", "operator": "Exists"}]
                 if spec.get("hostNetwork") else [])
            self.pod(pod_name, namespace, template, days_ago(9, namespace, pod_name), owner=ds, node=node,
                     labels={"controller-revision-hash": revision, "pod-template-generation": "1"},
                     extra_spec={"affinity": affinity, "tolerations": tolerations})
        return ds

    def job(self, namespace: str, name: str, labels: dict[str, str], spec: Obj, created: datetime, *,
            owner: Obj | None = None, annotations: dict[str, str] | None = None, backoff: int = 6,
            ttl: int | None = None) -> Obj:
        """A completed Job and its Succeeded Pod."""
        job_uid = uid("Job", namespace, name)
        job_labels = {"batch.kubernetes.io/controller-uid": job_uid, "batch.kubernetes.io/job-name": name,
                      "controller-uid": job_uid, "job-name": name}
        template = {"metadata": {"creationTimestamp": None, "labels": {**labels, **job_labels}}, "spec": spec}
        finished = created + timedelta(seconds=25 + number("dur", namespace, name, mod=600))
        job = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": meta("Job", name, namespace, created, labels={**labels, **job_labels},
                             annotations={"batch.kubernetes.io/job-tracking": "", **(annotations or {})},
                             owner=owner, generation=1),
            "spec": {
                "backoffLimit": backoff, "completionMode": "NonIndexed", "completions": 1, "manualSelector": False,
                "parallelism": 1, "podReplacementPolicy": "TerminatingOrFailed",
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": job_uid}},
                "suspend": False, "template": template,
                **({"ttlSecondsAfterFinished": ttl} if ttl is not None else {}),
            },
            "status": {
                "completionTime": ts(finished),
                "conditions": [{"lastProbeTime": ts(finished), "lastTransitionTime": ts(finished),
                                "status": "True", "type": "Complete"}],
                "ready": 0, "startTime": ts(created), "succeeded": 1, "terminating": 0,
                "uncountedTerminatedPods": {},
            },
        }
        self.add(job)
        self.pod(f"{name}-{suffix('jobpod', namespace, name)}", namespace, template,
                 created + timedelta(seconds=1), owner=job, done=finished)
        return job

    def cronjob(self, namespace: str, name: str, labels: dict[str, str], spec: Obj, schedule: str, *,
                runs: list[datetime], age: float = 150, annotations: dict[str, str] | None = None) -> Obj:
        """A CronJob with its last successful Jobs (history limit 3) and their Pods."""
        created = days_ago(age, namespace, name)
        cron = {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": meta("CronJob", name, namespace, created, labels=labels, annotations=annotations, generation=1),
            "spec": {
                "concurrencyPolicy": "Forbid",
                "failedJobsHistoryLimit": 1,
                "jobTemplate": {"metadata": {"creationTimestamp": None, "labels": dict(labels)},
                                "spec": {"backoffLimit": 2,
                                         "template": {"metadata": {"creationTimestamp": None, "labels": dict(labels)},
                                                      "spec": spec}}},
                "schedule": schedule,
                "successfulJobsHistoryLimit": 3,
                "suspend": False,
                "timeZone": "Europe/Berlin",
            },
            "status": {"lastScheduleTime": ts(runs[-1]), "lastSuccessfulTime": ts(runs[-1] + timedelta(minutes=2))},
        }
        self.add(cron)
        for run in runs:
            job_name = f"{name}-{int(run.timestamp()) // 60}"
            self.job(namespace, job_name, labels, spec, run, owner=cron, backoff=2,
                     annotations={"batch.kubernetes.io/cronjob-scheduled-timestamp": run.strftime("%Y-%m-%dT%H:%M:%S+01:00")})
        return cron

    def static_pod(self, component: str, node: Obj, spec: Obj, *, annotations: dict[str, str]) -> Obj:
        """A control-plane mirror Pod: named after its node, owned by it as the kubelet does."""
        name = f"{component}-{node['metadata']['name']}"
        config_hash = hexid("config", component, n=32)
        template = {"metadata": {"labels": {"component": component, "tier": "control-plane"}}, "spec": spec}
        return self.pod(name, "kube-system", template, days_ago(9, component), owner=node, node=node,
                        annotations={**annotations, "kubernetes.io/config.hash": config_hash,
                                     "kubernetes.io/config.mirror": config_hash,
                                     "kubernetes.io/config.seen": ts(days_ago(9, component)).replace("Z", ".114725119Z"),
                                     "kubernetes.io/config.source": "file"})

    # networking & config --------------------------------------------------------------
    def service(self, namespace: str, name: str, labels: dict[str, str], selector: dict[str, str] | None,
                ports: list[tuple[str, int, Any]], *, kind: str = "ClusterIP", age: float = 200,
                annotations: dict[str, str] | None = None, node_ports: list[int] | None = None,
                source_ranges: list[str] | None = None, lb_hostname: str | None = None,
                headless: bool = False, traffic_policy: str = "Cluster") -> Obj:
        ip = "None" if headless else f"10.{96 + number('svc', namespace, name, mod=16)}.{number('svc2', namespace, name, mod=256)}.{1 + number('svc3', namespace, name, mod=254)}"
        spec: Obj = {
            "clusterIP": ip, "clusterIPs": [ip], "internalTrafficPolicy": "Cluster",
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "ports": [], "sessionAffinity": "None", "type": kind,
        }
        for i, (pname, pnum, target) in enumerate(ports):
            entry: Obj = {"name": pname, "port": pnum, "protocol": "TCP", "targetPort": target}
            if kind in ("NodePort", "LoadBalancer"):
                entry["nodePort"] = (node_ports or [])[i] if node_ports else 30000 + number("np", namespace, name, i, mod=2767)
            spec["ports"].append(entry)
        if selector:
            spec["selector"] = selector
        if kind in ("NodePort", "LoadBalancer"):
            spec["externalTrafficPolicy"] = traffic_policy
        if kind == "LoadBalancer":
            spec["allocateLoadBalancerNodePorts"] = True
            if traffic_policy == "Local":
                spec["healthCheckNodePort"] = 30000 + number("hc", namespace, name, mod=2767)
            if source_ranges:
                spec["loadBalancerSourceRanges"] = source_ranges
        status: Obj = {"loadBalancer": {"ingress": [{"hostname": lb_hostname}]} if lb_hostname else {}}
        return self.add({
            "apiVersion": "v1", "kind": "Service",
            "metadata": meta("Service", name, namespace, days_ago(age, namespace, name), labels=labels,
                             annotations=annotations,
                             finalizers=["service.kubernetes.io/load-balancer-cleanup"] if kind == "LoadBalancer" else None),
            "spec": {k: spec[k] for k in sorted(spec)},
            "status": status,
        })

    def ingress(self, namespace: str, name: str, labels: dict[str, str], host: str,
                backends: list[tuple[str, str, int]], *, tls: bool, age: float = 150,
                annotations: dict[str, str] | None = None) -> Obj:
        spec: Obj = {
            "ingressClassName": "nginx",
            "rules": [{"host": host, "http": {"paths": [
                {"backend": {"service": {"name": svc, "port": {"number": p}}}, "path": path, "pathType": "Prefix"}
                for path, svc, p in backends]}}],
        }
        if tls:
            spec["tls"] = [{"hosts": [host]}]  # served with the controller's --default-ssl-certificate
        return self.add({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": meta("Ingress", name, namespace, days_ago(age, namespace, name), labels=labels,
                             annotations=annotations, generation=1),
            "spec": spec,
            "status": {"loadBalancer": {"ingress": [{"hostname": NLB}]}},
        })

    def simple(self, api_version: str, kind: str, name: str, namespace: str | None, body: Obj, *,
               age: float = 200, created: datetime | None = None, labels: dict[str, str] | None = None,
               annotations: dict[str, str] | None = None, **meta_extra: Any) -> Obj:
        """Any other object: apiVersion, kind, metadata and the given top-level fields."""
        created = created or days_ago(age, kind, namespace, name)
        return self.add({
            "apiVersion": api_version, "kind": kind,
            "metadata": meta(kind, name, namespace, created, labels=labels,
                             annotations=annotations, **meta_extra),
            **body,
        })


def inject(spec: Obj, volume: Obj, path: str, env: dict[str, str] | None = None) -> None:
    """Add a volume (mounted read-only at `path` in every container) and env, as admission does."""
    spec["volumes"] = list(spec.get("volumes") or []) + [volume]
    for key in ("initContainers", "containers"):
        if key not in spec:
            continue
        updated = []
        for c in spec[key]:
            c = {**c, "volumeMounts": list(c.get("volumeMounts") or [])
                 + [{"mountPath": path, "name": volume["name"], "readOnly": True}]}
            if env:
                known = {e["name"] for e in c.get("env") or ()}
                c["env"] = list(c.get("env") or []) + [env_var(k, v) for k, v in env.items() if k not in known]
            updated.append(c)
        spec[key] = updated


def owner_is_node(owner: Obj | None) -> bool:
    return owner is not None and owner["kind"] == "Node"


def kube_api_access(name: str) -> Obj:
    """The projected token volume the ServiceAccount admission plugin adds to every Pod."""
    return {"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
        {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                    "path": "namespace"}]}},
    ]}}


def pod_status(spec: Obj, namespace: str, name: str, node: Obj, ip: str, started: datetime,
               done: datetime | None) -> Obj:
    ready = "False" if done else "True"
    conditions = [
        ("PodReadyToStartContainers", "False" if done else "True", started),
        ("Initialized", "True", started),
        ("Ready", ready, done or started + timedelta(seconds=8)),
        ("ContainersReady", ready, done or started + timedelta(seconds=8)),
        ("PodScheduled", "True", started - timedelta(seconds=2)),
    ]

    def status_of(container: Obj, init: bool) -> Obj:
        cid = "containerd://" + hexid("container", namespace, name, container["name"])
        if done or init:
            end = done if done and not init else started + timedelta(seconds=3)
            state: Obj = {"terminated": {"containerID": cid, "exitCode": 0, "finishedAt": ts(end), "reason": "Completed",
                                         "startedAt": ts(started)}}
        else:
            state = {"running": {"startedAt": ts(started + timedelta(seconds=1))}}
        image = container["image"].split("@")[0]
        if "/" not in image.split(":")[0] or "." not in image.split("/")[0]:
            image = "docker.io/" + (image if "/" in image else "library/" + image)
        if ":" not in image.rsplit("/", 1)[-1]:
            image += ":latest"
        out = {"containerID": cid, "image": image, "imageID": image_ref(container["image"]),
               "lastState": {}, "name": container["name"], "ready": not done and not init,
               "restartCount": 0, "started": not done and not init, "state": state}
        if init:
            out.pop("started")
        return out

    qos = qos_class(spec)
    status: Obj = {
        "conditions": [{"lastProbeTime": None, "lastTransitionTime": ts(t), "status": s, "type": c}
                       for c, s, t in conditions],
        "containerStatuses": [status_of(c, False) for c in spec["containers"]],
        "hostIP": node["_ip"], "hostIPs": [{"ip": node["_ip"]}],
        "phase": "Succeeded" if done else "Running",
        "podIP": ip, "podIPs": [{"ip": ip}],
        "qosClass": qos, "startTime": ts(started - timedelta(seconds=1)),
    }
    if spec.get("initContainers"):
        status["initContainerStatuses"] = [status_of(c, True) for c in spec["initContainers"]]
    if done:
        status["conditions"] = [c for c in status["conditions"] if c["type"] != "PodReadyToStartContainers"] + [
            {"lastProbeTime": None, "lastTransitionTime": ts(done), "status": "False",
             "type": "PodReadyToStartContainers"}]
        for c in status["conditions"]:
            if c["type"] in ("Ready", "ContainersReady"):
                c["reason"] = "PodCompleted"
    return {k: status[k] for k in sorted(status)}


def qos_class(spec: Obj) -> str:
    resources = [c.get("resources") or {} for c in spec["containers"]]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        (r.get("limits") or {}).get(k) and (r.get("requests") or r.get("limits") or {}).get(k) == r["limits"][k]
        for r in resources for k in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"


# == the cluster ==========================================================================
def daily(hour: int, minute: int = 0, days: int = 3) -> list[datetime]:
    """The last `days` runs of a daily schedule before the snapshot (UTC)."""
    last = NOW.replace(hour=hour, minute=minute, second=0)
    if last > NOW:
        last -= timedelta(days=1)
    return [last - timedelta(days=d) for d in reversed(range(days))]


def namespaces(c: Cluster) -> None:
    psa = "pod-security.kubernetes.io/"
    spec = {
        # name: (age in days, extra labels, annotations)
        "default": (BORN, {}, None),
        "kube-system": (BORN, {}, None),
        "kube-public": (BORN, {}, None),
        "kube-node-lease": (BORN, {}, None),
        "ingress-nginx": (days_ago(610), {"app.kubernetes.io/instance": "ingress-nginx",
                                          "app.kubernetes.io/name": "ingress-nginx",
                                          psa + "enforce": "baseline", psa + "enforce-version": "v1.29"}, None),
        "shop": (days_ago(600), {"team": "storefront", psa + "enforce": "baseline", psa + "enforce-version": "latest",
                                 psa + "audit": "restricted", psa + "warn": "restricted"},
                 {"acme.example/owner": "storefront@acme.example", "acme.example/cost-center": "cc-4120"}),
        "payments": (days_ago(598), {"team": "payments", psa + "enforce": "restricted",
                                     psa + "enforce-version": "latest", psa + "audit": "restricted",
                                     psa + "warn": "restricted", "compliance.acme.example/pci-dss": "in-scope"},
                     {"acme.example/owner": "payments@acme.example", "acme.example/cost-center": "cc-4300"}),
        "data": (days_ago(598), {"team": "data-platform"},
                 {"acme.example/owner": "data-platform@acme.example", "acme.example/cost-center": "cc-5100"}),
        "monitoring": (days_ago(605), {"team": "platform", psa + "enforce": "privileged",
                                       psa + "enforce-version": "latest", psa + "warn": "baseline"},
                       {"acme.example/owner": "platform@acme.example"}),
        "ci": (days_ago(590), {"team": "platform"}, {"acme.example/owner": "platform@acme.example"}),
        "batch": (days_ago(420), {"team": "backoffice"}, {"acme.example/owner": "backoffice@acme.example"}),
    }
    for name, (created, labels, notes) in spec.items():
        c.add({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": meta("Namespace", name, None, created,
                             labels={"kubernetes.io/metadata.name": name, **labels}, annotations=notes),
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        })
        c.simple("v1", "ConfigMap", "kube-root-ca.crt", name, {"data": {"ca.crt": CA_CERT}},
                 created=created + timedelta(seconds=1),
                 annotations={"kubernetes.io/description": "Contains a CA bundle that can be used to verify the "
                              "kube-apiserver when using internal endpoints such as the internal service IP or "
                              "kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes "
                              "clusters."})
        c.simple("v1", "ServiceAccount", "default", name, {}, created=created + timedelta(seconds=1))


CA_CERT = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDBTCCAe2gAwIBAgIIWq3Ld4d1fRowDQYJKoZIhvcNAQELBQAwFTETMBEGA1UE\n"
    "AxMKa3ViZXJuZXRlczAeFw0yNDAyMjAwOTM2MDdaFw0zNDAyMTcwOTQxMDdaMBUx\n"
    "EzARBgNVBAMTCmt1YmVybmV0ZXMwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEK\n"
    "AoIBAQDKx0p3cJb3YQ8m2lqkqS1c8xM6Yb1H0p3o0r7L9xV2nE4aQmC5wV0dHq1k\n"
    "-----END CERTIFICATE-----\n"
)


def nodes(c: Cluster) -> None:
    c.node("k8s-cp-1", "10.40.1.10", "eu-west-1a", "m6i.large", BORN, control_plane=True,
                labels={"node-role.kubernetes.io/control-plane": "",
                        "node.kubernetes.io/exclude-from-external-load-balancers": ""},
                taints=[{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}])
    c.node("k8s-worker-1", "10.40.2.21", "eu-west-1b", "m6i.xlarge", days_ago(260),
           labels={"acme.example/pool": "general"})
    c.node("k8s-worker-2", "10.40.3.37", "eu-west-1c", "m6i.xlarge", days_ago(260),
           labels={"acme.example/pool": "general"})
    for node in c.nodes:
        name = node["metadata"]["name"]
        lease = c.simple("coordination.k8s.io/v1", "Lease", name, "kube-node-lease", {
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40,
                     "renewTime": (NOW - timedelta(seconds=7)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
        }, created=datetime.fromisoformat(node["metadata"]["creationTimestamp"]) + timedelta(seconds=3))
        lease["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": name,
                                                 "uid": node["metadata"]["uid"]}]


def kube_system(c: Cluster) -> None:
    ns = "kube-system"
    cp = c.nodes[0]
    ip = cp["_ip"]
    for sa, age in (("coredns", 636), ("kube-proxy", 636), ("calico-node", 630), ("calico-kube-controllers", 630),
                    ("metrics-server", 400), ("ebs-csi-node-sa", 380), ("kubelet-csr-approver", 250)):
        c.simple("v1", "ServiceAccount", sa, ns, {}, age=age)

    def hp(name: str, path: str, type_: str = "DirectoryOrCreate") -> Obj:
        return vol(name, "hostPath", path, type=type_)

    def cp_probe(path: str, port_: int, host: str = ip) -> Obj:
        action = {"httpGet": {"host": host, "path": path, "port": port_, "scheme": "HTTPS"}}
        return {
            "livenessProbe": {**action, "failureThreshold": 8, "initialDelaySeconds": 10, "periodSeconds": 10,
                              "successThreshold": 1, "timeoutSeconds": 15},
            "startupProbe": {**action, "failureThreshold": 24, "initialDelaySeconds": 10, "periodSeconds": 10,
                             "successThreshold": 1, "timeoutSeconds": 15},
        }

    def static(component: str, image: str, command: list[str], volumes: list[tuple[str, str, str]],
               cpu: str, probe: Obj, annotations: dict[str, str] | None = None) -> None:
        container = ctr(component, f"registry.k8s.io/{image}", command=command, res=res(cpu, None),
                        mounts={path + "!" if ro else path: name for name, path, ro in
                                ((v[0], v[1], v[2] == "ro") for v in volumes)}, **probe)
        spec = pod_spec([container], sc={"seccompProfile": {"type": "RuntimeDefault"}},
                        volumes=[hp(name, path, "FileOrCreate" if path.endswith(".conf") else "DirectoryOrCreate")
                                 for name, path, _ in volumes],
                        hostNetwork=True, priorityClassName="system-node-critical",
                        tolerations=[{"effect": "NoExecute", "operator": "Exists"}], grace=30)
        spec["dnsPolicy"] = "ClusterFirst"
        c.static_pod(component, cp, spec, annotations=annotations or {})

    pki = [("ca-certs", "/etc/ssl/certs", "ro"), ("etc-ca-certificates", "/etc/ca-certificates", "ro"),
           ("k8s-certs", "/etc/kubernetes/pki", "ro"), ("usr-local-share-ca-certificates", "/usr/local/share/ca-certificates", "ro"),
           ("usr-share-ca-certificates", "/usr/share/ca-certificates", "ro")]
    static("kube-apiserver", f"kube-apiserver:{K8S_VERSION}", [
        "kube-apiserver",
        f"--advertise-address={ip}",
        "--allow-privileged=true",
        "--anonymous-auth=true",
        "--api-audiences=https://kubernetes.default.svc.cluster.local,sts.amazonaws.com",
        "--authorization-mode=Node,RBAC",
        "--client-ca-file=/etc/kubernetes/pki/ca.crt",
        "--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,ResourceQuota",
        "--enable-bootstrap-token-auth=true",
        "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
        "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
        "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
        "--etcd-servers=https://127.0.0.1:2379",
        "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt",
        "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
        "--profiling=true",
        "--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt",
        "--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-username-headers=X-Remote-User",
        "--secure-port=6443",
        "--service-account-issuer=https://oidc.acme-prod-eu.acme.example",
        "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
        "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key",
        "--service-cluster-ip-range=10.96.0.0/12",
        "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
        "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
    ], pki, "250m", {**cp_probe("/livez", 6443), "readinessProbe": {
        "failureThreshold": 3, "httpGet": {"host": ip, "path": "/readyz", "port": 6443, "scheme": "HTTPS"},
        "periodSeconds": 1, "successThreshold": 1, "timeoutSeconds": 15}},
        {"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": f"{ip}:6443"})
    static("kube-controller-manager", f"kube-controller-manager:{K8S_VERSION}", [
        "kube-controller-manager",
        "--allocate-node-cidrs=true",
        "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
        "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf",
        "--bind-address=127.0.0.1",
        "--client-ca-file=/etc/kubernetes/pki/ca.crt",
        "--cluster-cidr=192.168.0.0/16",
        f"--cluster-name={CLUSTER}",
        "--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt",
        "--cluster-signing-key-file=/etc/kubernetes/pki/ca.key",
        "--controllers=*,bootstrapsigner,tokencleaner",
        "--kubeconfig=/etc/kubernetes/controller-manager.conf",
        "--leader-elect=true",
        "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
        "--root-ca-file=/etc/kubernetes/pki/ca.crt",
        "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
        "--service-cluster-ip-range=10.96.0.0/12",
        "--use-service-account-credentials=true",
    ], pki + [("flexvolume-dir", "/usr/libexec/kubernetes/kubelet-plugins/volume/exec", "rw"),
              ("kubeconfig", "/etc/kubernetes/controller-manager.conf", "ro")],
        "200m", cp_probe("/healthz", 10257, "127.0.0.1"))
    static("kube-scheduler", f"kube-scheduler:{K8S_VERSION}", [
        "kube-scheduler",
        "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
        "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf",
        "--bind-address=127.0.0.1",
        "--kubeconfig=/etc/kubernetes/scheduler.conf",
        "--leader-elect=true",
    ], [("kubeconfig", "/etc/kubernetes/scheduler.conf", "ro")], "100m", cp_probe("/healthz", 10259, "127.0.0.1"))
    static("etcd", "etcd:3.5.12-0", [
        "etcd",
        f"--advertise-client-urls=https://{ip}:2379",
        "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
        "--client-cert-auth=true",
        "--data-dir=/var/lib/etcd",
        "--experimental-initial-corrupt-check=true",
        "--experimental-watch-progress-notify-interval=5s",
        f"--initial-advertise-peer-urls=https://{ip}:2380",
        f"--initial-cluster=k8s-cp-1=https://{ip}:2380",
        "--key-file=/etc/kubernetes/pki/etcd/server.key",
        f"--listen-client-urls=https://127.0.0.1:2379,https://{ip}:2379",
        "--listen-metrics-urls=http://127.0.0.1:2381",
        f"--listen-peer-urls=https://{ip}:2380",
        "--name=k8s-cp-1",
        "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
        "--peer-client-cert-auth=true",
        "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
        "--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
        "--snapshot-count=10000",
        "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
    ], [("etcd-certs", "/etc/kubernetes/pki/etcd", "rw"), ("etcd-data", "/var/lib/etcd", "rw")], "100m",
        {k: {**v, "httpGet": {"host": "127.0.0.1", "path": "/health?exclude=NOSPACE&serializable=true" if k == "livenessProbe"
                               else "/health?serializable=false", "port": 2381, "scheme": "HTTP"}}
         for k, v in cp_probe("/health", 2381).items()},
        {"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{ip}:2379"})
    for pod in c.objects[-4:]:  # etcd's resources also request memory, as kubeadm writes it
        if pod["metadata"]["name"].startswith("etcd-"):
            pod["spec"]["containers"][0]["resources"] = res("100m", "100Mi")
            pod["status"]["qosClass"] = "Burstable"

    # CoreDNS, as kubeadm deploys it
    dns_labels = {"k8s-app": "kube-dns"}
    c.simple("v1", "ConfigMap", "coredns", ns, {"data": {"Corefile": (
        ".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n"
        "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n"
        "       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n"
        "    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30\n    loop\n"
        "    reload\n    loadbalance\n}\n")}}, age=636)
    c.deployment(ns, "coredns", dns_labels, pod_spec([
        ctr("coredns", "registry.k8s.io/coredns/coredns:v1.11.1", args=["-conf", "/etc/coredns/Corefile"],
            ports=[("dns", 53), ("dns-tcp", 53), ("metrics", 9153)], res=res("100m", "70Mi", None, "170Mi"),
            sc={"allowPrivilegeEscalation": False, "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                "readOnlyRootFilesystem": True},
            mounts={"/etc/coredns!": "config-volume"},
            livenessProbe={"failureThreshold": 5, "httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"},
                           "initialDelaySeconds": 60, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 5},
            readinessProbe={"failureThreshold": 3, "httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"},
                            "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1}),
    ], sa="coredns", dnsPolicy="Default", priorityClassName="system-cluster-critical",
        nodeSelector={"kubernetes.io/os": "linux"},
        tolerations=[{"key": "CriticalAddonsOnly", "operator": "Exists"},
                     {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}],
        volumes=[{"configMap": {"defaultMode": 420, "items": [{"key": "Corefile", "path": "Corefile"}],
                                "name": "coredns"}, "name": "config-volume"}]),
        replicas=2, age=636, history=[("coredns", "registry.k8s.io/coredns/coredns:v1.10.1")])
    for obj in c.objects:
        if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "coredns":
            obj["spec"]["strategy"]["rollingUpdate"] = {"maxSurge": "25%", "maxUnavailable": 1}
    c.service(ns, "kube-dns", {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                               "kubernetes.io/name": "CoreDNS"}, dns_labels,
              [("dns", 53, 53), ("dns-tcp", 53, 53), ("metrics", 9153, 9153)], age=636,
              annotations={"prometheus.io/port": "9153", "prometheus.io/scrape": "true"})
    c.objects[-1]["spec"]["clusterIP"] = c.objects[-1]["spec"]["clusterIPs"][0] = "10.96.0.10"

    # kube-proxy (kubeadm addon)
    c.simple("v1", "ConfigMap", "kube-proxy", ns, {"data": {
        "config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"
                       "bindAddress: 0.0.0.0\nclusterCIDR: 192.168.0.0/16\nmode: iptables\n",
        "kubeconfig.conf": "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority: "
                           "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt\n    server: https://10.40.1.10:6443\n"
                           "  name: default\n"}}, labels={"app": "kube-proxy"}, age=636)
    c.daemonset(ns, "kube-proxy", {"k8s-app": "kube-proxy"}, pod_spec([
        ctr("kube-proxy", f"registry.k8s.io/kube-proxy:{K8S_VERSION}",
            command=["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                     "--hostname-override=$(NODE_NAME)"],
            env={"NODE_NAME": ("field", "spec.nodeName")}, sc={"privileged": True},
            mounts={"/var/lib/kube-proxy": "kube-proxy", "/run/xtables.lock": "xtables-lock",
                    "/lib/modules!": "lib-modules"}),
    ], sa="kube-proxy", hostNetwork=True, priorityClassName="system-node-critical",
        nodeSelector={"kubernetes.io/os": "linux"}, tolerations=[{"operator": "Exists"}],
        volumes=[vol("kube-proxy", "configMap", "kube-proxy"), hp("xtables-lock", "/run/xtables.lock", "FileOrCreate"),
                 hp("lib-modules", "/lib/modules", "")]), age=636)

    # Calico (manifest install)
    calico_env = {"DATASTORE_TYPE": "kubernetes", "WAIT_FOR_DATASTORE": "true",
                  "NODENAME": ("field", "spec.nodeName"), "CALICO_NETWORKING_BACKEND": ("configmap", "calico-config", "calico_backend"),
                  "CLUSTER_TYPE": "k8s,bgp", "IP": "autodetect", "CALICO_IPV4POOL_IPIP": "Always",
                  "CALICO_IPV4POOL_CIDR": "192.168.0.0/16", "FELIX_DEFAULTENDPOINTTOHOSTACTION": "ACCEPT",
                  "FELIX_HEALTHENABLED": "true"}
    c.simple("v1", "ConfigMap", "calico-config", ns, {"data": {
        "calico_backend": "bird", "typha_service_name": "none", "veth_mtu": "0",
        "cni_network_config": '{\n  "name": "k8s-pod-network",\n  "cniVersion": "0.3.1",\n  "plugins": [{"type": "calico"}]\n}',
    }}, age=630)
    c.daemonset(ns, "calico-node", {"k8s-app": "calico-node"}, pod_spec([
        ctr("calico-node", "docker.io/calico/node:v3.27.3", env=calico_env, res=res("250m", None),
            sc={"privileged": True},
            livenessProbe={"exec": {"command": ["/bin/calico-node", "-felix-live", "-bird-live"]},
                           "failureThreshold": 6, "initialDelaySeconds": 10, "periodSeconds": 10,
                           "successThreshold": 1, "timeoutSeconds": 10},
            readinessProbe={"exec": {"command": ["/bin/calico-node", "-felix-ready", "-bird-ready"]},
                            "failureThreshold": 3, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 10},
            mounts={"/host/etc/cni/net.d": "cni-net-dir", "/lib/modules!": "lib-modules",
                    "/run/xtables.lock": "xtables-lock", "/var/run/calico": "var-run-calico",
                    "/var/lib/calico": "var-lib-calico", "/var/run/nodeagent": "policysync",
                    "/sys/fs/bpf": "bpffs"}),
    ], sa="calico-node", hostNetwork=True, priorityClassName="system-node-critical", grace=0,
        init=[ctr("install-cni", "docker.io/calico/cni:v3.27.3", command=["/opt/cni/bin/install"],
                  env={"CNI_CONF_NAME": "10-calico.conflist", "SLEEP": "false"}, sc={"privileged": True},
                  mounts={"/host/opt/cni/bin": "cni-bin-dir", "/host/etc/cni/net.d": "cni-net-dir"}),
              ctr("mount-bpffs", "docker.io/calico/node:v3.27.3", command=["calico-node", "-init", "-best-effort"],
                  sc={"privileged": True}, mounts={"/sys/fs": "sys-fs", "/var/run/calico": "var-run-calico",
                                                   "/nodeproc!": "nodeproc"})],
        nodeSelector={"kubernetes.io/os": "linux"},
        tolerations=[{"effect": "NoSchedule", "operator": "Exists"}, {"key": "CriticalAddonsOnly", "operator": "Exists"},
                     {"effect": "NoExecute", "operator": "Exists"}],
        volumes=[hp("lib-modules", "/lib/modules", ""), hp("var-run-calico", "/var/run/calico"),
                 hp("var-lib-calico", "/var/lib/calico"), hp("xtables-lock", "/run/xtables.lock", "FileOrCreate"),
                 hp("sys-fs", "/sys/fs/"), hp("bpffs", "/sys/fs/bpf", "Directory"), hp("nodeproc", "/proc", ""),
                 hp("cni-bin-dir", "/opt/cni/bin"), hp("cni-net-dir", "/etc/cni/net.d", ""),
                 hp("policysync", "/var/run/nodeagent")]), age=630)
    c.deployment(ns, "calico-kube-controllers", {"k8s-app": "calico-kube-controllers"}, pod_spec([
        ctr("calico-kube-controllers", "docker.io/calico/kube-controllers:v3.27.3",
            env={"ENABLED_CONTROLLERS": "node", "DATASTORE_TYPE": "kubernetes"},
            livenessProbe={"exec": {"command": ["/usr/bin/check-status", "-l"]}, "failureThreshold": 6,
                           "initialDelaySeconds": 10, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 10},
            readinessProbe={"exec": {"command": ["/usr/bin/check-status", "-r"]}, "failureThreshold": 3,
                            "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1},
            sc={"runAsNonRoot": True}),
    ], sa="calico-kube-controllers", priorityClassName="system-cluster-critical",
        nodeSelector={"kubernetes.io/os": "linux"},
        tolerations=[{"key": "CriticalAddonsOnly", "operator": "Exists"},
                     {"effect": "NoSchedule", "key": "node-role.kubernetes.io/master"},
                     {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}]),
        age=630, history=[("calico-kube-controllers", "docker.io/calico/kube-controllers:v3.26.4")])

    # metrics-server (helm)
    ms_labels, ms_ann = helm("metrics-server", "3.12.1", "0.7.1", "metrics-server", ns, "metrics-server")
    c.deployment(ns, "metrics-server", ms_labels, pod_spec([
        ctr("metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.7.1",
            args=["--secure-port=10250", "--cert-dir=/tmp", "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
                  "--kubelet-use-node-status-port", "--metric-resolution=15s", "--kubelet-insecure-tls"],
            ports=[("https", 10250)], res=res("100m", "200Mi"), mounts={"/tmp": "tmp"},
            sc={**HARDENED, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
            livenessProbe={"failureThreshold": 3, "httpGet": {"path": "/livez", "port": "https", "scheme": "HTTPS"},
                           "initialDelaySeconds": 0, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1},
            readinessProbe={"failureThreshold": 3, "httpGet": {"path": "/readyz", "port": "https", "scheme": "HTTPS"},
                            "initialDelaySeconds": 20, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1}),
    ], sa="metrics-server", priorityClassName="system-cluster-critical", volumes=[vol("tmp", "emptyDir")]),
        age=400, annotations=ms_ann)
    c.service(ns, "metrics-server", ms_labels, selector_labels(ms_labels), [("https", 443, "https")],
              age=400, annotations=ms_ann)

    # AWS EBS CSI node plugin (helm)
    ebs_labels, ebs_ann = helm("aws-ebs-csi-driver", "2.31.0", "1.31.0", "aws-ebs-csi-driver", ns, "aws-ebs-csi-driver")
    c.daemonset(ns, "ebs-csi-node", {**ebs_labels, "app": "ebs-csi-node"}, pod_spec([
        ctr("ebs-plugin", "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.31.0",
            args=["node", "--endpoint=$(CSI_ENDPOINT)", "--logging-format=text", "--v=2"],
            env={"CSI_ENDPOINT": "unix:/csi/csi.sock", "CSI_NODE_NAME": ("field", "spec.nodeName")},
            ports=[("healthz", 9808)], res=res("10m", "40Mi", None, "256Mi"),
            sc={"privileged": True, "readOnlyRootFilesystem": True},
            mounts={"/var/lib/kubelet": "kubelet-dir", "/csi": "plugin-dir", "/dev": "device-dir"}),
        ctr("node-driver-registrar", "public.ecr.aws/eks-distro/kubernetes-csi/node-driver-registrar:v2.10.1-eks-1-30-8",
            args=["--csi-address=$(ADDRESS)", "--kubelet-registration-path=$(DRIVER_REG_SOCK_PATH)", "--v=2"],
            env={"ADDRESS": "/csi/csi.sock", "DRIVER_REG_SOCK_PATH": "/var/lib/kubelet/plugins/ebs.csi.aws.com/csi.sock"},
            res=res("10m", "40Mi", None, "256Mi"), sc={**HARDENED, "runAsNonRoot": False},
            mounts={"/csi": "plugin-dir", "/registration": "registration-dir"}),
    ], sa="ebs-csi-node-sa", priorityClassName="system-node-critical",
        sc={"fsGroup": 0, "runAsGroup": 0, "runAsNonRoot": False, "runAsUser": 0},
        nodeSelector={"kubernetes.io/os": "linux"}, tolerations=[{"operator": "Exists", "tolerationSeconds": 300}],
        volumes=[hp("kubelet-dir", "/var/lib/kubelet", "Directory"),
                 hp("plugin-dir", "/var/lib/kubelet/plugins/ebs.csi.aws.com/"),
                 hp("registration-dir", "/var/lib/kubelet/plugins_registry/", "Directory"),
                 hp("device-dir", "/dev", "Directory")]), age=380, annotations=ebs_ann)
    for obj in c.objects:  # the kubelet dir needs bidirectional propagation
        if obj["kind"] in ("DaemonSet", "Pod") and obj["metadata"]["name"].startswith("ebs-csi-node"):
            spec = obj["spec"] if obj["kind"] == "Pod" else obj["spec"]["template"]["spec"]
            for m in spec["containers"][0]["volumeMounts"]:
                if m["name"] == "kubelet-dir":
                    m["mountPropagation"] = "Bidirectional"

    # kubelet serving-certificate approver
    kca_labels = {"app.kubernetes.io/instance": "kubelet-csr-approver", "app.kubernetes.io/name": "kubelet-csr-approver",
                  "app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "kubelet-csr-approver-1.2.2",
                  "app.kubernetes.io/version": "v1.2.2"}
    c.deployment(ns, "kubelet-csr-approver", kca_labels, pod_spec([
        ctr("kubelet-csr-approver", "ghcr.io/postfinance/kubelet-csr-approver:v1.2.2",
            args=["-metrics-bind-address", ":8080", "-health-probe-bind-address", ":8081"],
            env={"PROVIDER_REGEX": r"^k8s-(cp|worker)-\d+$", "PROVIDER_IP_PREFIXES": "10.40.0.0/16",
                 "MAX_EXPIRATION_SEC": "31622400", "BYPASS_DNS_RESOLUTION": "true"},
            ports=[("metrics", 8080)], res=res("100m", "64Mi", "500m", "128Mi"),
            probe=("http", "/healthz", 8081), sc=HARDENED),
    ], sa="kubelet-csr-approver", sc=pod_sc(65532),
        tolerations=[{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane", "operator": "Equal"}]),
        age=250, annotations={"meta.helm.sh/release-name": "kubelet-csr-approver", "meta.helm.sh/release-namespace": ns})

    c.simple("v1", "ConfigMap", "kubeadm-config", ns, {"data": {"ClusterConfiguration": (
        "apiServer:\n  extraArgs:\n    anonymous-auth: \"true\"\n    authorization-mode: Node,RBAC\n"
        "    enable-admission-plugins: NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,ResourceQuota\n"
        "    profiling: \"true\"\n    service-account-issuer: https://oidc.acme-prod-eu.acme.example\n"
        "  timeoutForControlPlane: 4m0s\napiVersion: kubeadm.k8s.io/v1beta3\ncertificatesDir: /etc/kubernetes/pki\n"
        f"clusterName: {CLUSTER}\ncontrollerManager: {{}}\ndns: {{}}\netcd:\n  local:\n    dataDir: /var/lib/etcd\n"
        f"imageRepository: registry.k8s.io\nkind: ClusterConfiguration\nkubernetesVersion: {K8S_VERSION}\n"
        "networking:\n  dnsDomain: cluster.local\n  podSubnet: 192.168.0.0/16\n  serviceSubnet: 10.96.0.0/12\n"
        "scheduler: {}\n")}}, age=9)
    c.simple("v1", "ConfigMap", "cluster-info", "kube-public", {"data": {
        "kubeconfig": ("apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: LS0tLS1CRUdJTi...\n"
                       "    server: https://10.40.1.10:6443\n  name: \"\"\ncontexts: null\ncurrent-context: \"\"\n"
                       "kind: Config\npreferences: {}\nusers: null\n")}}, age=636)
    for secret, type_ in (("bootstrap-token-8k2m1q", "bootstrap.kubernetes.io/token"),
                          ("sh.helm.release.v1.metrics-server.v2", "helm.sh/release.v1"),
                          ("kubelet-csr-approver-webhook", "kubernetes.io/tls")):
        c.simple("v1", "Secret", secret, ns, {"type": type_}, age=30 if "bootstrap" in secret else 250)
    c.service("default", "kubernetes", {"component": "apiserver", "provider": "kubernetes"}, None,
              [("https", 443, 6443)], age=636)
    c.objects[-1]["spec"]["clusterIP"] = c.objects[-1]["spec"]["clusterIPs"][0] = "10.96.0.1"


def ingress_nginx(c: Cluster) -> None:
    ns = "ingress-nginx"
    labels, ann = helm("ingress-nginx", "4.10.1", "1.10.1", "ingress-nginx", ns, "ingress-nginx", "controller")
    c.simple("v1", "ServiceAccount", "ingress-nginx", ns, {"automountServiceAccountToken": True},
             labels=labels, annotations=ann, age=610)
    c.simple("v1", "ServiceAccount", "ingress-nginx-admission", ns, {},
             labels={**labels, "app.kubernetes.io/component": "admission-webhook"}, age=610)
    c.simple("v1", "ConfigMap", "ingress-nginx-controller", ns, {"data": {
        "allow-snippet-annotations": "false", "use-forwarded-headers": "true", "enable-real-ip": "true",
        "ssl-protocols": "TLSv1.2 TLSv1.3", "hsts": "true"}}, labels=labels, annotations=ann, age=610)
    c.simple("v1", "Secret", "wildcard-acme-example-tls", ns, {"type": "kubernetes.io/tls"}, age=52,
             annotations={"cert-manager.io/common-name": f"*.{DOMAIN}", "cert-manager.io/issuer-name": "letsencrypt"})
    c.simple("v1", "Secret", "ingress-nginx-admission", ns, {"type": "Opaque"}, age=610)
    c.simple("v1", "Secret", "sh.helm.release.v1.ingress-nginx.v7", ns, {"type": "helm.sh/release.v1"},
             labels={"name": "ingress-nginx", "owner": "helm", "status": "deployed", "version": "7"}, age=48)
    controller = "registry.k8s.io/ingress-nginx/controller:v1.10.1@sha256:e24f39d3eed6bcc239a56f20098878845f62baa34b9f2be2fd2c38ce9fb0f29e"
    c.deployment(ns, "ingress-nginx-controller", labels, pod_spec([
        ctr("controller", controller,
            args=["/nginx-ingress-controller", "--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller",
                  "--election-id=ingress-nginx-leader", "--controller-class=k8s.io/ingress-nginx",
                  "--ingress-class=nginx", "--configmap=$(POD_NAMESPACE)/ingress-nginx-controller",
                  "--validating-webhook=:8443", "--validating-webhook-certificate=/usr/local/certificates/cert",
                  "--validating-webhook-key=/usr/local/certificates/key",
                  "--default-ssl-certificate=ingress-nginx/wildcard-acme-example-tls"],
            env={"POD_NAME": ("field", "metadata.name"), "POD_NAMESPACE": ("field", "metadata.namespace"),
                 "LD_PRELOAD": "/usr/local/lib/libmimalloc.so"},
            ports=[("http", 80), ("https", 443), ("webhook", 8443)], res=res("100m", "90Mi"),
            sc={"allowPrivilegeEscalation": False, "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                "readOnlyRootFilesystem": False, "runAsNonRoot": True, "runAsUser": 101,
                "seccompProfile": {"type": "RuntimeDefault"}},
            livenessProbe={"failureThreshold": 5, "httpGet": {"path": "/healthz", "port": 10254, "scheme": "HTTP"},
                           "initialDelaySeconds": 10, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1},
            readinessProbe={"failureThreshold": 3, "httpGet": {"path": "/healthz", "port": 10254, "scheme": "HTTP"},
                            "initialDelaySeconds": 10, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1},
            lifecycle={"preStop": {"exec": {"command": ["/wait-shutdown"]}}},
            mounts={"/usr/local/certificates/!": "webhook-cert"}),
    ], sa="ingress-nginx", grace=300, nodeSelector={"kubernetes.io/os": "linux"},
        volumes=[vol("webhook-cert", "secret", "ingress-nginx-admission")]),
        replicas=2, age=610, annotations=ann,
        history=[("controller", "registry.k8s.io/ingress-nginx/controller:v1.9.6@sha256:1405cc613bd95b2c6edd8b2a152510ae91c7e62aea4698500d23b2145960ab9c")])
    c.service(ns, "ingress-nginx-controller", labels, selector_labels(labels),
              [("http", 80, "http"), ("https", 443, "https")], kind="LoadBalancer", traffic_policy="Local",
              lb_hostname=NLB, age=610, annotations={
                  **ann, "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
                  "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
                  "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true"})
    c.service(ns, "ingress-nginx-controller-admission", labels, selector_labels(labels),
              [("https-webhook", 443, "webhook")], age=610, annotations=ann)
    hook_labels = {**labels, "app.kubernetes.io/component": "admission-webhook"}
    for name, args in (("ingress-nginx-admission-create", ["create", "--host=ingress-nginx-controller-admission,ingress-nginx-controller-admission.$(POD_NAMESPACE).svc", "--namespace=$(POD_NAMESPACE)", "--secret-name=ingress-nginx-admission"]),
                       ("ingress-nginx-admission-patch", ["patch", "--webhook-name=ingress-nginx-admission", "--namespace=$(POD_NAMESPACE)", "--patch-mutating=false", "--secret-name=ingress-nginx-admission", "--patch-failure-policy=Fail"])):
        c.job(ns, name, hook_labels, pod_spec([
            ctr(args[0], "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.4.1@sha256:36d05b4077fb8e3d13663702fa337f124675ba8667cbd949c03a8e8ea6fa4366",
                args=args, env={"POD_NAMESPACE": ("field", "metadata.namespace")},
                sc={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True,
                    "runAsNonRoot": True, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}}),
        ], sa="ingress-nginx-admission", restart="OnFailure", nodeSelector={"kubernetes.io/os": "linux"}),
            days_ago(48, name), annotations={"helm.sh/hook": "pre-install,pre-upgrade" if "create" in name else "post-install,post-upgrade",
                                              "helm.sh/hook-delete-policy": "before-hook-creation"})
    c.simple("networking.k8s.io/v1", "IngressClass", "nginx", None, {"spec": {"controller": "k8s.io/ingress-nginx"}},
             labels=labels, annotations={**ann, "ingressclass.kubernetes.io/is-default-class": "true"}, age=610,
             generation=1)
    c.simple("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "ingress-nginx-admission", None, {
        "webhooks": [{
            "admissionReviewVersions": ["v1"],
            "clientConfig": {"caBundle": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkakNDQVJ1Z0F3SUJBZ0lRS...",
                             "service": {"name": "ingress-nginx-controller-admission", "namespace": ns,
                                         "path": "/networking/v1/ingresses", "port": 443}},
            "failurePolicy": "Fail", "matchPolicy": "Equivalent", "name": "validate.nginx.ingress.kubernetes.io",
            "namespaceSelector": {}, "objectSelector": {},
            "rules": [{"apiGroups": ["networking.k8s.io"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                       "resources": ["ingresses"], "scope": "*"}],
            "sideEffects": "None", "timeoutSeconds": 10,
        }]}, labels=hook_labels, annotations=ann, age=610, generation=3)


def shop(c: Cluster) -> None:
    ns = "shop"
    c.simple("v1", "ServiceAccount", "storefront", ns, {"automountServiceAccountToken": False},
             labels=app("storefront", "4.12.0", "shop"), age=600)
    c.simple("v1", "ConfigMap", "storefront-config", ns, {"data": {
        "CATALOG_URL": "http://catalog.shop.svc.cluster.local:8080", "CART_URL": "http://cart.shop.svc.cluster.local:8080",
        "PAYMENTS_URL": "http://payments-api.payments.svc.cluster.local:8080", "FEATURE_NEW_CHECKOUT": "true",
        "CDN_BASE": f"https://static.{DOMAIN}"}}, labels=app("storefront", "4.12.0", "shop"), age=90)
    c.simple("v1", "ConfigMap", "cart-config", ns, {"data": {
        "REDIS_HOST": "redis-master.data.svc.cluster.local", "REDIS_PORT": "6379", "SESSION_TTL": "3600",
        "redis_password": "r3d1s-Sh0p-2024!"}}, labels=app("cart", "1.8.2", "shop"), age=300)
    c.simple("v1", "Secret", "storefront-session", ns, {"type": "Opaque"}, labels=app("storefront", "4.12.0", "shop"), age=400)
    c.simple("v1", "Secret", "catalog-erp-credentials", ns, {"type": "Opaque"}, age=500)

    sf = app("storefront", "4.12.0", "shop", "frontend")
    c.deployment(ns, "storefront", sf, pod_spec([
        ctr("storefront", pinned("ghcr.io/acme/storefront:4.12.0"), ports=[("http", 8080)],
            env={"NODE_ENV": "production", "PORT": "8080",
                 "SESSION_SECRET_FILE": "/var/run/secrets/storefront/secret"},
            envFrom=[{"configMapRef": {"name": "storefront-config"}}],
            res=res("200m", "256Mi", "1", "512Mi"), probe=("http", "/healthz", "http"), sc=HARDENED,
            mounts={"/tmp": "tmp", "/app/.next/cache": "cache", "/var/run/secrets/storefront!": "session"}),
    ], sa="storefront", sc=pod_sc(10001, fs_group=10001), automountServiceAccountToken=False,
        volumes=[vol("tmp", "emptyDir"), vol("cache", "emptyDir", {"sizeLimit": "512Mi"}),
                 vol("session", "secret", "storefront-session")],
        topologySpreadConstraints=[{"labelSelector": {"matchLabels": selector_labels(sf)}, "maxSkew": 1,
                                    "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway"}]),
        replicas=3, age=600, pod_annotations={"prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
        history=[("storefront", pinned("ghcr.io/acme/storefront:4.10.3")), ("storefront", pinned("ghcr.io/acme/storefront:4.11.1"))])
    c.service(ns, "storefront", sf, selector_labels(sf), [("http", 80, "http")], age=600)
    c.ingress(ns, "storefront", sf, f"shop.{DOMAIN}", [("/", "storefront", 80)], tls=True, age=600,
              annotations={"nginx.ingress.kubernetes.io/proxy-body-size": "8m"})

    cart = app("cart", "1.8.2", "shop", "backend")
    c.deployment(ns, "cart", cart, pod_spec([
        ctr("cart", "ghcr.io/acme/cart:1.8.2", ports=[("http", 8080)],
            env={"REDIS_HOST": ("configmap", "cart-config", "REDIS_HOST"), "REDIS_PASSWORD": "r3d1s-Sh0p-2024!",
                 "LOG_LEVEL": "info"},
            res=res("100m", "128Mi"), probe=("http", "/health", "http"),
            sc={"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 1000}),
    ]), replicas=2, age=540, history=[("cart", "ghcr.io/acme/cart:1.8.1")])
    c.service(ns, "cart", cart, selector_labels(cart), [("http", 8080, "http")], age=540)

    catalog = app("catalog", "3.3.1", "shop", "backend")
    c.deployment(ns, "catalog", catalog, pod_spec([
        ctr("catalog", "ghcr.io/acme/catalog:3.3.1", ports=[("http", 8080)],
            env={"ERP_URL": "https://erp.corp.acme.example/api", "ERP_USER": "svc-catalog",
                 "ERP_PASSWORD": ("secret", "catalog-erp-credentials", "password")},
            res=res("250m", "512Mi", "1", "1Gi")),
    ], hostAliases=[{"hostnames": ["erp.corp.acme.example"], "ip": "10.10.4.17"}]), replicas=2, age=560)
    c.service(ns, "catalog", catalog, selector_labels(catalog), [("http", 8080, "http")], age=560)
    c.service(ns, "catalog-partner", {**catalog, "acme.example/exposure": "partner-feed"}, selector_labels(catalog),
              [("http", 8080, "http")], kind="NodePort", node_ports=[30880], age=380,
              annotations={"acme.example/ticket": "OPS-2291 partner price feed, temporary"})

    reco = app("recommendations", "latest", "shop", "backend")
    c.deployment(ns, "recommendations", reco, pod_spec([
        ctr("recommendations", "ghcr.io/acme/recommendations:latest", ports=[("http", 5000)],
            env={"MODEL_BUCKET": "s3://acme-ml-models/reco", "WORKERS": "4"}),
    ]), age=75)
    c.service(ns, "recommendations", reco, selector_labels(reco), [("http", 5000, "http")], age=75)

    resizer = app("image-resizer", "1.2.4", "shop", "media")
    c.deployment(ns, "image-resizer", resizer, pod_spec([
        ctr("imaginary", "docker.io/h2non/imaginary:1.2.4", args=["-enable-url-source", "-http-cache-ttl", "31556926"],
            ports=[("http", 9000)], res=res("250m", "256Mi", "2", "1Gi"), probe=("http", "/health", "http"),
            sc={"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 1000}),
        ctr("profiler", "docker.io/library/busybox:1.36.1", command=["sh", "-c", "while true; do sleep 3600; done"],
            res=res("10m", "16Mi", "50m", "32Mi")),
    ], shareProcessNamespace=True), age=410)
    c.service(ns, "image-resizer", resizer, selector_labels(resizer), [("http", 80, "http")], age=410)

    # a ReplicaSet created by hand for a campaign in 2024 and never turned into a Deployment
    news = {"app": "newsletter-signup", "campaign": "spring-2024"}
    c.replicaset(None, {"metadata": {"creationTimestamp": None, "labels": news}, "spec": pod_spec([
        ctr("newsletter", "ghcr.io/acme/newsletter-signup:0.9.0", ports=[80],
            env={"MAILCHIMP_LIST_ID": "a41c93f0de", "LISTEN": ":80"}),
    ])}, 1, 1, days_ago(560, ns, "newsletter-signup"), namespace=ns, name="newsletter-signup")
    c.service(ns, "newsletter-signup", news, news, [("http", 80, 80)], age=560)

    c.simple("v1", "LimitRange", "shop-defaults", ns, {"spec": {"limits": [{
        "default": {"cpu": "500m", "memory": "512Mi"}, "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
        "type": "Container"}]}}, age=590)
    c.simple("policy/v1", "PodDisruptionBudget", "storefront", ns, {
        "spec": {"minAvailable": 2, "selector": {"matchLabels": selector_labels(sf)}},
        "status": {"currentHealthy": 3, "desiredHealthy": 2, "disruptionsAllowed": 1, "expectedPods": 3,
                   "observedGeneration": 1}}, labels=sf, age=600, generation=1)
    c.simple("autoscaling/v2", "HorizontalPodAutoscaler", "storefront", ns, {
        "spec": {"maxReplicas": 10, "minReplicas": 3,
                 "metrics": [{"resource": {"name": "cpu", "target": {"averageUtilization": 70, "type": "Utilization"}},
                              "type": "Resource"}],
                 "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "storefront"}},
        "status": {"currentReplicas": 3, "desiredReplicas": 3}}, labels=sf, age=600)


def payments(c: Cluster) -> None:
    ns = "payments"
    api = app("payments-api", "2.14.3", "payments", "api")
    c.simple("v1", "ServiceAccount", "payments-api", ns, {}, labels=api, age=598, annotations={
        "eks.amazonaws.com/role-arn": f"arn:aws:iam::{ACCOUNT}:role/{CLUSTER}-payments-api",
        "eks.amazonaws.com/sts-regional-endpoints": "true"})
    c.simple("v1", "ServiceAccount", "payments-worker", ns, {}, labels=app("payments-worker", "2.14.3", "payments"), age=598)
    c.simple("v1", "ServiceAccount", "fraud-scoring", ns, {"automountServiceAccountToken": False},
             labels=app("fraud-scoring", "0.31.0", "payments"), age=300)
    c.simple("v1", "ServiceAccount", "payments-reports", ns, {"automountServiceAccountToken": False}, age=200)
    for secret in ("payments-db-credentials", "stripe-api", "ledger-signing-key"):
        c.simple("v1", "Secret", secret, ns, {"type": "Opaque"}, age=590)
    c.simple("v1", "ConfigMap", "fraud-scoring-config", ns, {"data": {
        "MODEL_VERSION": "2025-10-02", "THRESHOLD_BLOCK": "0.92", "THRESHOLD_REVIEW": "0.71",
        "scoring_api_key": "fsk_live_4c1d9a7e0b2f4e6d8a3c5b7f9e1d2c4a",
        "VENDOR_URL": "https://api.fraudvendor.example/v2/score"}}, labels=app("fraud-scoring", "0.31.0", "payments"), age=40)

    def hardened_api(name: str, image: str, ports_: list[Any], env: dict[str, Any], probe_: tuple[Any, ...] | None,
                     r: Obj) -> Obj:
        return ctr(name, image, ports=ports_, env=env, res=r, probe=probe_, sc=HARDENED, mounts={"/tmp": "tmp"})

    db_env = {"DB_HOST": "postgres-postgresql.data.svc.cluster.local", "DB_NAME": "payments",
              "DB_USER": ("secret", "payments-db-credentials", "username"),
              "DB_PASSWORD": ("secret", "payments-db-credentials", "password")}
    c.deployment(ns, "payments-api", api, pod_spec([
        hardened_api("payments-api", pinned("ghcr.io/acme/payments-api:2.14.3"), [("http", 8080), ("metrics", 9090)],
                     {**db_env, "STRIPE_KEY": ("secret", "stripe-api", "secret-key"), "AWS_REGION": "eu-west-1",
                      "KMS_KEY_ALIAS": "alias/payments-tokenization"},
                     ("http", "/healthz", "http"), res("250m", "384Mi", "1", "512Mi")),
    ], sa="payments-api", sc=pod_sc(10001, fs_group=10001), volumes=[vol("tmp", "emptyDir")]),
        replicas=3, age=598, pod_annotations={"prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
        history=[("payments-api", pinned("ghcr.io/acme/payments-api:2.13.0")), ("payments-api", pinned("ghcr.io/acme/payments-api:2.14.1"))])
    c.service(ns, "payments-api", api, selector_labels(api), [("http", 8080, "http"), ("metrics", 9090, "metrics")], age=598)
    c.ingress(ns, "payments-api", api, f"api.{DOMAIN}", [("/payments", "payments-api", 8080)], tls=True, age=598,
              annotations={"nginx.ingress.kubernetes.io/limit-rps": "50",
                           "nginx.ingress.kubernetes.io/backend-protocol": "HTTP"})

    worker = app("payments-worker", "2.14.3", "payments", "worker")
    c.deployment(ns, "payments-worker", worker, pod_spec([
        hardened_api("worker", pinned("ghcr.io/acme/payments-api:2.14.3"), [("metrics", 9090)],
                     {**db_env, "MODE": "worker", "QUEUE_URL": f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/payments-events"},
                     ("http", "/healthz", "metrics"), res("100m", "256Mi", "500m", "512Mi")),
    ], sa="payments-worker", sc=pod_sc(10001), volumes=[vol("tmp", "emptyDir")]),
        replicas=2, age=598, history=[("worker", pinned("ghcr.io/acme/payments-api:2.14.1"))])

    fraud = app("fraud-scoring", "0.31.0", "payments", "scoring")
    c.deployment(ns, "fraud-scoring", fraud, pod_spec([
        ctr("scorer", "ghcr.io/acme/fraud-scoring:0.31.0", ports=[("grpc", 50051)],
            envFrom=[{"configMapRef": {"name": "fraud-scoring-config"}}], res=res("500m", "1Gi"), sc=HARDENED,
            mounts={"/tmp": "tmp"}),
    ], sa="fraud-scoring", sc=pod_sc(10001), automountServiceAccountToken=False, volumes=[vol("tmp", "emptyDir")]),
        replicas=2, age=300)
    c.service(ns, "fraud-scoring", fraud, selector_labels(fraud), [("grpc", 50051, "grpc")], age=300)

    migrate = app("payments-ledger-migrate", "2.14.3", "payments", "migration")
    c.job(ns, "payments-ledger-migrate-2-14-3", migrate, pod_spec([
        ctr("migrate", pinned("ghcr.io/acme/payments-api:2.14.3"), command=["/app/bin/migrate", "up"],
            env={"DATABASE_URL": "postgres://ledger_admin@postgres-postgresql.data.svc.cluster.local:5432/payments",
                 "DATABASE_PASSWORD": "Ledg3r!Adm1n#2024", "MIGRATIONS_TABLE": "schema_migrations"},
            res=res("100m", "128Mi", "500m", "256Mi"), sc=HARDENED),
    ], sa="payments-worker", sc=pod_sc(10001), restart="Never"), days_ago(12.4, ns, "migrate"), backoff=0)

    reports = app("settlement-report", "1.3.0", "payments", "reporting")
    c.cronjob(ns, "settlement-report", reports, pod_spec([
        ctr("report", pinned("ghcr.io/acme/settlement-report:1.3.0"), args=["--date=yesterday", "--upload"],
            env={**db_env, "REPORT_BUCKET": "s3://acme-finance-settlements"},
            res=res("200m", "256Mi", "1", "512Mi"), sc=HARDENED),
    ], sa="payments-reports", sc=pod_sc(10001), restart="OnFailure"), "30 4 * * *", runs=daily(3, 30), age=200)

    c.simple("v1", "ResourceQuota", "payments-quota", ns, {
        "spec": {"hard": {"limits.cpu": "16", "limits.memory": "32Gi", "pods": "40", "requests.cpu": "8",
                          "requests.memory": "16Gi", "services.loadbalancers": "0", "services.nodeports": "0"}},
        "status": {"hard": {"limits.cpu": "16", "limits.memory": "32Gi", "pods": "40", "requests.cpu": "8",
                            "requests.memory": "16Gi", "services.loadbalancers": "0", "services.nodeports": "0"},
                   "used": {"limits.cpu": "6", "limits.memory": "4Gi", "pods": "10", "requests.cpu": "2250m",
                            "requests.memory": "3712Mi", "services.loadbalancers": "0", "services.nodeports": "0"}}},
        age=590)
    c.simple("v1", "LimitRange", "payments-defaults", ns, {"spec": {"limits": [{
        "default": {"cpu": "500m", "memory": "512Mi"}, "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
        "max": {"cpu": "2", "memory": "4Gi"}, "type": "Container"}]}}, age=590)


def data(c: Cluster) -> None:
    ns = "data"
    pg, pg_ann = helm("postgresql", "15.5.11", "16.3.0", "postgres", ns, "postgresql", "primary")
    rd, rd_ann = helm("redis", "19.5.5", "7.2.5", "redis", ns, "redis", "master")
    c.simple("v1", "ServiceAccount", "postgres-postgresql", ns, {"automountServiceAccountToken": False},
             labels=pg, annotations=pg_ann, age=598)
    c.simple("v1", "ServiceAccount", "redis-master", ns, {"automountServiceAccountToken": False},
             labels=rd, annotations=rd_ann, age=598)
    c.simple("v1", "ServiceAccount", "pgadmin", ns, {}, labels=app("pgadmin", "8.9"), age=320)
    c.simple("v1", "ServiceAccount", "bq-exporter", ns, {}, labels=app("bq-exporter", "0.6.2", "analytics"), age=210,
             annotations={"iam.gke.io/gcp-service-account": "bq-exporter@acme-analytics-prod.iam.gserviceaccount.com"})
    for secret, labels, ann in (("postgres-postgresql", pg, pg_ann), ("redis", rd, rd_ann)):
        c.simple("v1", "Secret", secret, ns, {"type": "Opaque"}, labels=labels, annotations=ann, age=598)
    c.simple("v1", "Secret", "sh.helm.release.v1.postgres.v4", ns, {"type": "helm.sh/release.v1"},
             labels={"name": "postgres", "owner": "helm", "status": "deployed", "version": "4"}, age=60)
    c.simple("v1", "Secret", "bq-exporter-gcp-credentials", ns, {"type": "Opaque"}, age=210)

    bitnami_sc = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "privileged": False,
                  "readOnlyRootFilesystem": True, "runAsGroup": 1001, "runAsNonRoot": True, "runAsUser": 1001,
                  "seLinuxOptions": {}, "seccompProfile": {"type": "RuntimeDefault"}}
    c.statefulset(ns, "postgres-postgresql", pg, pod_spec([
        ctr("postgresql", "docker.io/bitnami/postgresql:16.3.0-debian-12-r14", ports=[("tcp-postgresql", 5432)],
            env={"BITNAMI_DEBUG": "false", "POSTGRESQL_PORT_NUMBER": "5432",
                 "POSTGRESQL_VOLUME_DIR": "/bitnami/postgresql", "PGDATA": "/bitnami/postgresql/data",
                 "POSTGRES_PASSWORD": ("secret", "postgres-postgresql", "postgres-password"),
                 "POSTGRESQL_ENABLE_TLS": "no"},
            res=res("500m", "1Gi", "2", "4Gi"), sc=bitnami_sc,
            livenessProbe={"exec": {"command": ["/bin/sh", "-c", "exec pg_isready -U \"postgres\" -h 127.0.0.1 -p 5432"]},
                           "failureThreshold": 6, "initialDelaySeconds": 30, "periodSeconds": 10,
                           "successThreshold": 1, "timeoutSeconds": 5},
            readinessProbe={"exec": {"command": ["/bin/sh", "-c", "-e", "exec pg_isready -U \"postgres\" -h 127.0.0.1 -p 5432\n"]},
                            "failureThreshold": 6, "initialDelaySeconds": 5, "periodSeconds": 10,
                            "successThreshold": 1, "timeoutSeconds": 5},
            mounts={"/tmp": "empty-dir", "/opt/bitnami/postgresql/conf": "empty-dir",
                    "/dev/shm": "dshm", "/bitnami/postgresql": "data"}),
    ], sa="postgres-postgresql", sc={"fsGroup": 1001, "fsGroupChangePolicy": "Always"},
        automountServiceAccountToken=False,
        volumes=[vol("empty-dir", "emptyDir"), vol("dshm", "emptyDir", {"medium": "Memory"})]),
        age=598, service="postgres-postgresql-hl", claims=[("data", "100Gi")], annotations=pg_ann)
    c.service(ns, "postgres-postgresql", pg, selector_labels(pg), [("tcp-postgresql", 5432, "tcp-postgresql")],
              age=598, annotations=pg_ann)
    c.service(ns, "postgres-postgresql-hl", pg, selector_labels(pg), [("tcp-postgresql", 5432, "tcp-postgresql")],
              age=598, annotations={**pg_ann, "service.alpha.kubernetes.io/tolerate-unready-endpoints": "true"},
              headless=True)
    c.service(ns, "postgres-readonly-vpn", pg, selector_labels(pg), [("tcp-postgresql", 5432, "tcp-postgresql")],
              kind="LoadBalancer", source_ranges=["10.8.0.0/16", "172.20.14.0/24"], age=240,
              lb_hostname="internal-a5f3c9d1e2b74c0e9a8f1d2c3b4a5e6f-1283746501.eu-west-1.elb.amazonaws.com",
              annotations={"service.beta.kubernetes.io/aws-load-balancer-internal": "true",
                           "acme.example/ticket": "DATA-812 BI tools over the VPN"})
    c.statefulset(ns, "redis-master", rd, pod_spec([
        ctr("redis", "docker.io/bitnami/redis:7.2.5-debian-12-r0", command=["/bin/bash"],
            args=["-c", "/opt/bitnami/scripts/start-scripts/start-master.sh"], ports=[("redis", 6379)],
            env={"BITNAMI_DEBUG": "false", "REDIS_REPLICATION_MODE": "master", "ALLOW_EMPTY_PASSWORD": "no",
                 "REDIS_PASSWORD": ("secret", "redis", "redis-password"), "REDIS_PORT": "6379"},
            sc=bitnami_sc, probe=("tcp", "redis"), mounts={"/data": "redis-data", "/tmp": "empty-dir"}),
    ], sa="redis-master", sc={"fsGroup": 1001, "fsGroupChangePolicy": "Always",
                              "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}]},
        automountServiceAccountToken=False,
        volumes=[vol("empty-dir", "emptyDir")]),
        age=598, service="redis-headless", claims=[("redis-data", "8Gi")], annotations=rd_ann)
    c.service(ns, "redis-master", rd, selector_labels(rd), [("tcp-redis", 6379, "redis")], age=598, annotations=rd_ann)

    pga = app("pgadmin", "8.9", None, "admin-ui")
    c.deployment(ns, "pgadmin", pga, pod_spec([
        ctr("pgadmin", "docker.io/dpage/pgadmin4:8.9", ports=[("http", 80)],
            env={"PGADMIN_DEFAULT_EMAIL": "dba@acme.example", "PGADMIN_DEFAULT_PASSWORD": "pgadmin-Acme!23",
                 "PGADMIN_CONFIG_ENHANCED_COOKIE_PROTECTION": "True"},
            res=res("100m", "256Mi", None, "512Mi"), probe=("http", "/misc/ping", 80, 30)),
    ], sa="pgadmin", sc={"fsGroup": 5050, "runAsGroup": 5050, "runAsUser": 5050}), age=320)
    c.service(ns, "pgadmin", pga, selector_labels(pga), [("http", 80, "http")], age=320)
    c.ingress(ns, "pgadmin", pga, f"pgadmin.{DOMAIN}", [("/", "pgadmin", 80)], tls=True, age=320,
              annotations={"nginx.ingress.kubernetes.io/whitelist-source-range": "0.0.0.0/0"})

    backup = app("postgres-backup", "16", None, "backup")
    c.cronjob(ns, "postgres-backup", backup, pod_spec([
        ctr("backup", "docker.io/prodrigestivill/postgres-backup-local:16",
            command=["/backup.sh"],
            env={"POSTGRES_HOST": "postgres-postgresql", "POSTGRES_DB": "payments,shop,reports",
                 "POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": ("secret", "postgres-postgresql", "postgres-password"),
                 "BACKUP_KEEP_DAYS": "7", "POSTGRES_EXTRA_OPTS": "-Z6 --schema=public --blobs"},
            res=res("100m", "256Mi"), mounts={"/backups": "backups"}),
    ], restart="OnFailure", volumes=[vol("backups", "pvc", "postgres-backups")]), "0 2 * * *", runs=daily(1), age=540)
    c.pvc(ns, "postgres-backups", "200Gi", days_ago(540, "pvc-backups"), backup)

    bq = app("bq-exporter", "0.6.2", "analytics", "export")
    c.cronjob(ns, "bq-exporter", bq, pod_spec([
        ctr("exporter", "europe-docker.pkg.dev/acme-analytics-prod/etl/bq-exporter:0.6.2",
            args=["--source=postgres://analytics_ro@postgres-postgresql:5432/shop", "--dataset=acme_prod_eu.orders"],
            env={"GOOGLE_APPLICATION_CREDENTIALS": "/var/run/secrets/gcp/credentials.json",
                 "PGPASSWORD": ("secret", "postgres-postgresql", "analytics-password")},
            res=res("250m", "512Mi", "1", "1Gi"),
            sc={"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 65532},
            mounts={"/var/run/secrets/gcp!": "gcp-credentials"}),
    ], sa="bq-exporter", restart="Never", volumes=[vol("gcp-credentials", "secret", "bq-exporter-gcp-credentials")]),
        "15 */6 * * *", runs=[NOW.replace(hour=h, minute=15, second=0) for h in (0, 6)], age=210)
    c.simple("v1", "ResourceQuota", "data-quota", ns, {
        "spec": {"hard": {"persistentvolumeclaims": "10", "requests.storage": "500Gi", "requests.cpu": "8",
                          "requests.memory": "24Gi"}},
        "status": {"hard": {"persistentvolumeclaims": "10", "requests.storage": "500Gi", "requests.cpu": "8",
                            "requests.memory": "24Gi"},
                   "used": {"persistentvolumeclaims": "3", "requests.storage": "308Gi", "requests.cpu": "850m",
                            "requests.memory": "1792Mi"}}}, age=590)


def monitoring(c: Cluster) -> None:
    ns = "monitoring"
    prom, prom_ann = helm("prometheus", "25.21.0", "v2.53.0", "prometheus", ns, "prometheus", "server")
    am, am_ann = helm("alertmanager", "1.11.0", "v0.27.0", "alertmanager", ns, "alertmanager")
    gf, gf_ann = helm("grafana", "8.3.2", "11.1.0", "grafana", ns, "grafana")
    ksm, ksm_ann = helm("kube-state-metrics", "5.21.0", "2.12.0", "kube-state-metrics", ns, "kube-state-metrics", "metrics")
    ne, ne_ann = helm("prometheus-node-exporter", "4.37.0", "1.8.1", "node-exporter", ns, "prometheus-node-exporter", "metrics")
    fb, fb_ann = helm("fluent-bit", "0.47.1", "3.0.7", "fluent-bit", ns, "fluent-bit")
    bb, bb_ann = helm("prometheus-blackbox-exporter", "8.17.0", "v0.25.0", "blackbox-exporter", ns, "prometheus-blackbox-exporter")
    for sa, labels, ann, extra in (("prometheus-server", prom, prom_ann, {}), ("alertmanager", am, am_ann, {}),
                                   ("grafana", gf, gf_ann, {}), ("kube-state-metrics", ksm, ksm_ann, {}),
                                   ("prometheus-node-exporter", ne, ne_ann, {"automountServiceAccountToken": False}),
                                   ("fluent-bit", fb, fb_ann, {}),
                                   ("blackbox-exporter", bb, bb_ann, {"automountServiceAccountToken": False})):
        c.simple("v1", "ServiceAccount", sa, ns, extra, labels=labels, annotations=ann, age=605)
    c.simple("v1", "Secret", "grafana", ns, {"type": "Opaque"}, labels=gf, annotations=gf_ann, age=605)
    c.simple("v1", "Secret", "alertmanager-slack", ns, {"type": "Opaque"}, age=400)
    c.simple("v1", "ConfigMap", "grafana", ns, {"data": {"grafana.ini": (
        "[analytics]\ncheck_for_updates = true\n[auth.anonymous]\nenabled = true\norg_role = Viewer\n"
        "[server]\ndomain = grafana.acme.example\nroot_url = http://grafana.acme.example\n"
        "[security]\nallow_embedding = true\n")}}, labels=gf, annotations=gf_ann, age=605)
    c.simple("v1", "ConfigMap", "alertmanager", ns, {"data": {"alertmanager.yml": (
        "global:\n  resolve_timeout: 5m\n  slack_api_url: https://hooks.slack.com/services/T024F7Q3A/B05K2M1PZ/"
        "qL9vX2mN7rT4wY6zA1bC3dE5\nroute:\n  receiver: platform-oncall\n  group_by: [alertname, namespace]\n"
        "receivers:\n- name: platform-oncall\n  slack_configs:\n  - channel: '#oncall-platform'\n")}},
        labels=am, annotations=am_ann, age=400)

    c.statefulset(ns, "prometheus-server", prom, pod_spec([
        ctr("prometheus-server-configmap-reload", "quay.io/prometheus-operator/prometheus-config-reloader:v0.74.0",
            args=["--watched-dir=/etc/config", "--reload-url=http://127.0.0.1:9090/-/reload"],
            mounts={"/etc/config!": "config-volume"}),
        ctr("prometheus-server", "quay.io/prometheus/prometheus:v2.53.0",
            args=["--storage.tsdb.retention.time=15d", "--config.file=/etc/config/prometheus.yml",
                  "--storage.tsdb.path=/data", "--web.console.libraries=/etc/prometheus/console_libraries",
                  "--web.console.templates=/etc/prometheus/consoles", "--web.enable-lifecycle"],
            ports=[9090], res=res("500m", "2Gi", None, "4Gi"),
            livenessProbe={"failureThreshold": 3, "httpGet": {"path": "/-/healthy", "port": 9090, "scheme": "HTTP"},
                           "initialDelaySeconds": 30, "periodSeconds": 15, "successThreshold": 1, "timeoutSeconds": 10},
            readinessProbe={"failureThreshold": 3, "httpGet": {"path": "/-/ready", "port": 9090, "scheme": "HTTP"},
                            "initialDelaySeconds": 30, "periodSeconds": 5, "successThreshold": 1, "timeoutSeconds": 4},
            mounts={"/etc/config": "config-volume", "/data": "storage-volume"}),
    ], sa="prometheus-server", sc={"fsGroup": 65534, "runAsGroup": 65534, "runAsNonRoot": True, "runAsUser": 65534},
        volumes=[vol("config-volume", "configMap", "prometheus-server")]),
        age=605, service="prometheus-server-headless", claims=[("storage-volume", "50Gi")], annotations=prom_ann)
    c.simple("v1", "ConfigMap", "prometheus-server", ns, {"data": {"prometheus.yml": (
        "global:\n  scrape_interval: 1m\nscrape_configs:\n- job_name: kubernetes-nodes\n  kubernetes_sd_configs:\n"
        "  - role: node\n  relabel_configs:\n  - target_label: __address__\n    replacement: kubernetes.default.svc:443\n"
        "  - source_labels: [__meta_kubernetes_node_name]\n    target_label: __metrics_path__\n"
        "    replacement: /api/v1/nodes/$1/proxy/metrics\n")}}, labels=prom, annotations=prom_ann, age=605)
    c.service(ns, "prometheus-server", prom, selector_labels(prom), [("http", 80, 9090)], age=605, annotations=prom_ann)

    c.statefulset(ns, "alertmanager", am, pod_spec([
        ctr("alertmanager", "quay.io/prometheus/alertmanager:v0.27.0",
            args=["--storage.path=/alertmanager", "--config.file=/etc/alertmanager/alertmanager.yml"],
            env={"POD_IP": ("field", "status.podIP")}, ports=[("http", 9093)], res=res("10m", "32Mi", "100m", "128Mi"),
            probe=("http", "/", "http"), sc={"runAsGroup": 65534, "runAsNonRoot": True, "runAsUser": 65534},
            mounts={"/etc/alertmanager": "config", "/alertmanager": "storage"}),
    ], sa="alertmanager", sc={"fsGroup": 65534}, volumes=[vol("config", "configMap", "alertmanager")]),
        age=400, service="alertmanager-headless", claims=[("storage", "2Gi")], annotations=am_ann)
    c.service(ns, "alertmanager", am, selector_labels(am), [("http", 9093, "http")], age=400, annotations=am_ann)

    c.deployment(ns, "grafana", gf, pod_spec([
        ctr("grafana-sc-dashboard", "quay.io/kiwigrid/k8s-sidecar:1.27.4",
            env={"METHOD": "WATCH", "LABEL": "grafana_dashboard", "FOLDER": "/tmp/dashboards", "RESOURCE": "configmap",
                 "NAMESPACE": "monitoring"},
            sc={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"}},
            mounts={"/tmp/dashboards": "sc-dashboard-volume"}),
        ctr("grafana", "docker.io/grafana/grafana:11.1.0", ports=[("grafana", 3000), ("gossip-tcp", 9094)],
            env={"GF_SECURITY_ADMIN_USER": ("secret", "grafana", "admin-user"),
                 "GF_SECURITY_ADMIN_PASSWORD": ("secret", "grafana", "admin-password"),
                 "GF_PATHS_DATA": "/var/lib/grafana/", "GF_PATHS_LOGS": "/var/log/grafana",
                 "GF_PATHS_PLUGINS": "/var/lib/grafana/plugins", "GF_PATHS_PROVISIONING": "/etc/grafana/provisioning"},
            sc={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"}},
            livenessProbe={"failureThreshold": 10, "httpGet": {"path": "/api/health", "port": 3000, "scheme": "HTTP"},
                           "initialDelaySeconds": 60, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 30},
            readinessProbe={"failureThreshold": 3, "httpGet": {"path": "/api/health", "port": 3000, "scheme": "HTTP"},
                            "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1},
            mounts={"/etc/grafana/grafana.ini": "config", "/var/lib/grafana": "storage",
                    "/tmp/dashboards": "sc-dashboard-volume"}),
    ], sa="grafana", sc={"fsGroup": 472, "runAsGroup": 472, "runAsNonRoot": True, "runAsUser": 472},
        volumes=[vol("config", "configMap", "grafana"), vol("storage", "emptyDir"),
                 vol("sc-dashboard-volume", "emptyDir")]),
        age=605, annotations=gf_ann, pod_annotations={"checksum/config": hexid("gfcfg"), "checksum/secret": hexid("gfsec")},
        history=[("grafana", "docker.io/grafana/grafana:10.4.3")])
    c.service(ns, "grafana", gf, selector_labels(gf), [("service", 80, 3000)], age=605, annotations=gf_ann)
    c.ingress(ns, "grafana", gf, f"grafana.{DOMAIN}", [("/", "grafana", 80)], tls=False, age=605, annotations=gf_ann)

    c.deployment(ns, "kube-state-metrics", ksm, pod_spec([
        ctr("kube-state-metrics", "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.12.0",
            args=["--port=8080", ("--resources=certificatesigningrequests,configmaps,cronjobs,daemonsets,deployments,"
                                  "endpoints,horizontalpodautoscalers,ingresses,jobs,leases,limitranges,namespaces,"
                                  "networkpolicies,nodes,persistentvolumeclaims,persistentvolumes,poddisruptionbudgets,"
                                  "pods,replicasets,resourcequotas,secrets,services,statefulsets,storageclasses")],
            ports=[("http", 8080)], probe=("http", "/healthz", 8080, 5), sc={**HARDENED}),
    ], sa="kube-state-metrics", sc={"fsGroup": 65534, "runAsGroup": 65534, "runAsNonRoot": True, "runAsUser": 65534,
                                    "seccompProfile": {"type": "RuntimeDefault"}}),
        age=605, annotations=ksm_ann)
    c.service(ns, "kube-state-metrics", ksm, selector_labels(ksm), [("http", 8080, 8080)], age=605, annotations=ksm_ann)

    c.daemonset(ns, "prometheus-node-exporter", ne, pod_spec([
        ctr("node-exporter", "quay.io/prometheus/node-exporter:v1.8.1",
            args=["--path.procfs=/host/proc", "--path.sysfs=/host/sys", "--path.rootfs=/host/root",
                  "--path.udev.data=/host/root/run/udev/data", "--web.listen-address=[$(HOST_IP)]:9100"],
            env={"HOST_IP": "0.0.0.0"}, ports=[("metrics", 9100, 9100)], probe=("http", "/", 9100),
            sc={"readOnlyRootFilesystem": True},
            mounts={"/host/proc!": "proc", "/host/sys!": "sys", "/host/root!": "root"}),
    ], sa="prometheus-node-exporter", hostNetwork=True, hostPID=True, automountServiceAccountToken=False,
        sc={"fsGroup": 65534, "runAsGroup": 65534, "runAsNonRoot": True, "runAsUser": 65534},
        tolerations=[{"effect": "NoSchedule", "operator": "Exists"}],
        volumes=[vol("proc", "hostPath", "/proc"), vol("sys", "hostPath", "/sys"), vol("root", "hostPath", "/")]),
        age=605, annotations=ne_ann)
    for obj in c.objects:  # the chart mounts the host root with HostToContainer propagation
        if obj["kind"] in ("DaemonSet", "Pod") and obj["metadata"]["name"].startswith("prometheus-node-exporter"):
            spec = obj["spec"] if obj["kind"] == "Pod" else obj["spec"]["template"]["spec"]
            for m in spec["containers"][0]["volumeMounts"]:
                if m["name"] == "root":
                    m["mountPropagation"] = "HostToContainer"
    c.service(ns, "prometheus-node-exporter", ne, selector_labels(ne), [("metrics", 9100, 9100)], age=605,
              annotations={**ne_ann, "prometheus.io/scrape": "true"})

    c.daemonset(ns, "fluent-bit", fb, pod_spec([
        ctr("fluent-bit", "cr.fluentbit.io/fluent/fluent-bit:3.0.7", args=["--workdir=/fluent-bit/etc",
                                                                            "--config=/fluent-bit/etc/conf/fluent-bit.conf"],
            ports=[("http", 2020)], probe=("http", "/", "http"),
            env={"OPENSEARCH_HOST": "logs.acme.example", "OPENSEARCH_USER": "fluentbit",
                 "OPENSEARCH_PASSWORD": ("secret", "fluent-bit-opensearch", "password")},
            sc={"runAsUser": 0},
            mounts={"/fluent-bit/etc/conf": "config", "/var/log": "varlog", "/var/lib/docker/containers!": "varlibdockercontainers",
                    "/etc/machine-id!": "etcmachineid"}),
    ], sa="fluent-bit", tolerations=[{"effect": "NoSchedule", "operator": "Exists"}],
        volumes=[vol("config", "configMap", "fluent-bit"), vol("varlog", "hostPath", "/var/log"),
                 vol("varlibdockercontainers", "hostPath", "/var/lib/docker/containers"),
                 vol("etcmachineid", "hostPath", "/etc/machine-id", type="File")]),
        age=380, annotations=fb_ann)
    c.simple("v1", "Secret", "fluent-bit-opensearch", ns, {"type": "Opaque"}, age=380)
    c.simple("v1", "ConfigMap", "fluent-bit", ns, {"data": {"fluent-bit.conf": (
        "[SERVICE]\n    Daemon Off\n    Flush 1\n    HTTP_Server On\n    HTTP_Port 2020\n\n[INPUT]\n    Name tail\n"
        "    Path /var/log/containers/*.log\n    multiline.parser docker, cri\n    Tag kube.*\n\n[FILTER]\n"
        "    Name kubernetes\n    Match kube.*\n\n[OUTPUT]\n    Name opensearch\n    Match kube.*\n"
        "    Host ${OPENSEARCH_HOST}\n    HTTP_User ${OPENSEARCH_USER}\n    HTTP_Passwd ${OPENSEARCH_PASSWORD}\n"
        "    tls On\n")}}, labels=fb, annotations=fb_ann, age=380)

    c.deployment(ns, "blackbox-exporter", bb, pod_spec([
        ctr("blackbox-exporter", "quay.io/prometheus/blackbox-exporter:v0.25.0",
            args=["--config.file=/config/blackbox.yaml"], ports=[("http", 9115)], res=res("10m", "32Mi", "100m", "64Mi"),
            probe=("http", "/-/healthy", "http"),
            sc={"allowPrivilegeEscalation": False, "capabilities": {"add": ["NET_RAW"], "drop": ["ALL"]},
                "readOnlyRootFilesystem": True, "runAsGroup": 1000, "runAsNonRoot": True, "runAsUser": 1000},
            mounts={"/config": "config"}),
    ], sa="blackbox-exporter", automountServiceAccountToken=False,
        volumes=[vol("config", "configMap", "blackbox-exporter")]), age=500, annotations=bb_ann)
    c.simple("v1", "ConfigMap", "blackbox-exporter", ns, {"data": {"blackbox.yaml": (
        "modules:\n  http_2xx:\n    prober: http\n    http:\n      preferred_ip_protocol: ip4\n"
        "  icmp:\n    prober: icmp\n")}}, labels=bb, annotations=bb_ann, age=500)
    c.service(ns, "blackbox-exporter", bb, selector_labels(bb), [("http", 9115, "http")], age=500, annotations=bb_ann)


def ci(c: Cluster) -> None:
    ns = "ci"
    jk, jk_ann = helm("jenkins", "5.3.1", "2.462.1", "jenkins", ns, "jenkins", "jenkins-controller")
    c.simple("v1", "ServiceAccount", "jenkins", ns, {}, labels=jk, annotations=jk_ann, age=590)
    c.simple("v1", "ServiceAccount", "sonarqube", ns, {}, labels=app("sonarqube", "10.5.1"), age=450)
    c.simple("v1", "Secret", "jenkins", ns, {"type": "Opaque"}, labels=jk, annotations=jk_ann, age=590)
    c.simple("v1", "Secret", "registry-credentials", ns, {"type": "kubernetes.io/dockerconfigjson"}, age=590)
    c.simple("v1", "Secret", "jenkins-token-legacy", ns, {"type": "kubernetes.io/service-account-token"}, age=590,
             annotations={"kubernetes.io/service-account.name": "jenkins",
                          "kubernetes.io/service-account.uid": uid("ServiceAccount", ns, "jenkins")})
    c.simple("v1", "ConfigMap", "jenkins-jenkins-config-casc", ns, {"data": {"jcasc-default-config.yaml": (
        "jenkins:\n  systemMessage: acme-prod-eu CI\n  clouds:\n  - kubernetes:\n      name: kubernetes\n"
        "      namespace: ci\n      jenkinsUrl: http://jenkins.ci.svc.cluster.local:8080\n"
        "      jenkinsTunnel: jenkins-agent.ci.svc.cluster.local:50000\n"
        "credentials:\n  system:\n    domainCredentials:\n    - credentials:\n      - string:\n"
        "          id: github-deploy\n          secret: ghp_9fK2mQ7xLr4TzW1nB8vC3dY6hJ0sA5eP2gU4\n")}},
        labels={**jk, "jenkins-jenkins-config": "true"}, annotations=jk_ann, age=120)
    c.statefulset(ns, "jenkins", jk, pod_spec([
        ctr("jenkins", "docker.io/jenkins/jenkins:2.462.1-jdk17",
            args=["--httpPort=8080"], ports=[("http", 8080), ("agent-listener", 50000)],
            env={"SECRETS": "/run/secrets/additional", "POD_NAME": ("field", "metadata.name"),
                 "JAVA_OPTS": "-Dcasc.reload.token=$(POD_NAME)", "JENKINS_OPTS": "--webroot=/var/jenkins_cache/war",
                 "CASC_JENKINS_CONFIG": "/var/jenkins_home/casc_configs"},
            res=res("50m", "256Mi", "2", "4Gi"),
            livenessProbe={"failureThreshold": 5, "httpGet": {"path": "/login", "port": "http", "scheme": "HTTP"},
                           "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 5},
            readinessProbe={"failureThreshold": 3, "httpGet": {"path": "/login", "port": "http", "scheme": "HTTP"},
                            "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 5},
            sc={"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsGroup": 1000, "runAsUser": 1000},
            mounts={"/var/jenkins_home": "jenkins-home", "/var/jenkins_config!": "jenkins-config",
                    "/var/jenkins_home/casc_configs": "sc-config-volume", "/var/jenkins_cache": "jenkins-cache",
                    "/tmp": "tmp-volume"}),
        ctr("config-reload", "docker.io/kiwigrid/k8s-sidecar:1.27.4",
            env={"LABEL": "jenkins-jenkins-config", "FOLDER": "/var/jenkins_home/casc_configs", "NAMESPACE": "ci",
                 "REQ_URL": "http://localhost:8080/reload-configuration-as-code/?casc-reload-token=$(POD_NAME)",
                 "REQ_METHOD": "POST", "POD_NAME": ("field", "metadata.name")},
            sc={"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
            mounts={"/var/jenkins_home/casc_configs": "sc-config-volume", "/var/jenkins_home": "jenkins-home"}),
    ], sa="jenkins", sc={"fsGroup": 1000, "runAsNonRoot": True, "runAsUser": 1000},
        init=[ctr("init", "docker.io/jenkins/jenkins:2.462.1-jdk17", command=["sh", "/var/jenkins_config/apply_config.sh"],
                  res=res("50m", "256Mi", "2", "4Gi"),
                  sc={"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsGroup": 1000,
                      "runAsUser": 1000},
                  mounts={"/var/jenkins_home": "jenkins-home", "/var/jenkins_config": "jenkins-config",
                          "/usr/share/jenkins/ref/plugins": "plugins"})],
        volumes=[vol("plugins", "emptyDir"), vol("jenkins-config", "configMap", "jenkins"),
                 vol("plugin-dir", "emptyDir"), vol("jenkins-cache", "emptyDir"), vol("sc-config-volume", "emptyDir"),
                 vol("tmp-volume", "emptyDir")]),
        age=590, service="jenkins", claims=[("jenkins-home", "50Gi")], annotations=jk_ann)
    c.simple("v1", "ConfigMap", "jenkins", ns, {"data": {"apply_config.sh": (
        "set -e\necho \"disable Setup Wizard\"\necho $JENKINS_VERSION > /var/jenkins_home/jenkins.install.UpgradeWizard.state\n"
        "echo \"download plugins\"\njenkins-plugin-cli --verbose --war \"/usr/share/jenkins/jenkins.war\" "
        "--plugin-file \"/var/jenkins_home/plugins.txt\" --latest true\n")}}, labels=jk, annotations=jk_ann, age=590)
    c.service(ns, "jenkins", jk, selector_labels(jk), [("http", 8080, 8080)], age=590, annotations=jk_ann)
    c.service(ns, "jenkins-agent", jk, selector_labels(jk), [("agent-listener", 50000, 50000)], age=590,
              annotations=jk_ann)
    c.ingress(ns, "jenkins", jk, f"jenkins.{DOMAIN}", [("/", "jenkins", 8080)], tls=True, age=590,
              annotations={**jk_ann, "nginx.ingress.kubernetes.io/proxy-body-size": "50m"})

    # build agents the Kubernetes plugin started for running pipelines: bare Pods
    def agent(name: str, label: str, job: str, builder: Obj, volumes: list[Obj], started: datetime,
              annotations: dict[str, str] | None = None) -> None:
        spec = pod_spec([
            ctr("jnlp", "docker.io/jenkins/inbound-agent:3248.v65ecb_254c298-1",
                env={"JENKINS_URL": "http://jenkins.ci.svc.cluster.local:8080/",
                     "JENKINS_TUNNEL": "jenkins-agent.ci.svc.cluster.local:50000",
                     "JENKINS_AGENT_NAME": name, "JENKINS_NAME": name, "JENKINS_AGENT_WORKDIR": "/home/jenkins/agent",
                     "JENKINS_SECRET": hexid("jnlp-secret", name)},
                res=res("100m", "256Mi"), mounts={"/home/jenkins/agent": "workspace-volume"}),
            builder,
        ], restart="Never", nodeSelector={"kubernetes.io/os": "linux"},
            volumes=[vol("workspace-volume", "emptyDir"), *volumes])
        c.pod(name, ns, {"metadata": {
            "labels": {"jenkins/jenkins-jenkins-agent": "true", "jenkins/label": label,
                       "jenkins/label-digest": hexid("label", label, n=40),
                       "kubernetes.jenkins.io/controller": "http___jenkins_ci_svc_cluster_local_8080x"},
            "annotations": {"buildUrl": f"http://jenkins.ci.svc.cluster.local:8080/{job}", "runUrl": job,
                            **(annotations or {})}},
            "spec": spec}, started)

    agent("docker-build-7h2kd-q8n4x", "docker-build", "job/shop/job/storefront/job/main/912/",
          ctr("dind", "docker.io/library/docker:24.0.9-dind", env={"DOCKER_TLS_CERTDIR": ""}, sc={"privileged": True},
              mounts={"/home/jenkins/agent": "workspace-volume", "/var/lib/docker": "docker-graph"}),
          [vol("docker-graph", "emptyDir")], NOW - timedelta(minutes=6))
    # rootless BuildKit as its docs deploy it: no privileges, but seccomp and AppArmor off
    agent("image-build-5v9tm-j2c7r", "image-build", "job/payments/job/payments-api/job/release%2F2.15/37/",
          ctr("buildkitd", "docker.io/moby/buildkit:v0.14.1-rootless",
              args=["--addr", "unix:///run/user/1000/buildkit/buildkitd.sock", "--oci-worker-no-process-sandbox"],
              env={"BUILDKITD_FLAGS": "--oci-worker-no-process-sandbox"},
              sc={"runAsGroup": 1000, "runAsUser": 1000, "seccompProfile": {"type": "Unconfined"}},
              mounts={"/home/user/.local/share/buildkit": "buildkitd", "/home/jenkins/agent": "workspace-volume"}),
          [vol("buildkitd", "emptyDir")], NOW - timedelta(minutes=2),
          annotations={"container.apparmor.security.beta.kubernetes.io/buildkitd": "unconfined"})

    sq = app("sonarqube", "10.5.1", None, "code-quality")
    c.deployment(ns, "sonarqube", sq, pod_spec([
        ctr("sonarqube", "docker.io/library/sonarqube:10.5.1-community", ports=[("http", 9000)],
            env={"SONAR_JDBC_URL": "jdbc:postgresql://postgres-postgresql.data.svc.cluster.local:5432/sonarqube",
                 "SONAR_JDBC_USERNAME": "sonarqube", "SONAR_JDBC_PASSWORD": "Sonar-Qube-2023"},
            probe=("http", "/api/system/status", "http", 60), mounts={"/opt/sonarqube/data": "data"}),
    ], sa="sonarqube", init=[
        ctr("init-sysctl", "docker.io/library/busybox:1.36.1",
            command=["sh", "-e", "-c", "sysctl -w vm.max_map_count=524288\nsysctl -w fs.file-max=131072\n"],
            sc={"privileged": True, "runAsUser": 0}),
    ], volumes=[vol("data", "emptyDir")]), age=450)
    c.service(ns, "sonarqube", sq, selector_labels(sq), [("http", 9000, "http")], age=450)

    gc = app("registry-cleanup", "1.0")
    c.cronjob(ns, "registry-cleanup", gc, pod_spec([
        ctr("cleanup", "bitnami/kubectl", command=["/bin/sh", "-c",
                                                    "kubectl delete pod -n ci --field-selector=status.phase==Succeeded"]),
    ], sa="jenkins", restart="OnFailure"), "0 3 * * 0", runs=[NOW.replace(hour=2, minute=0, second=0) - timedelta(days=2)],
        age=300)


def batch(c: Cluster) -> None:
    ns = "batch"
    c.simple("v1", "ServiceAccount", "report-runner", ns, {}, labels=app("reports", "1.4.0", "backoffice"), age=420)
    c.simple("v1", "Secret", "smtp-relay", ns, {"type": "Opaque"}, age=420)
    reports = app("nightly-reports", "1.4.0", "backoffice")
    c.cronjob(ns, "nightly-reports", reports, pod_spec([
        ctr("reports", "ghcr.io/acme/reports:1.4.0", args=["run", "--all"],
            env={"DB_URL": "postgres://reports@postgres-postgresql.data.svc.cluster.local:5432/reports",
                 "S3_BUCKET": "acme-reports-prod"}, res=res("500m", "1Gi")),
    ], sa="report-runner", restart="OnFailure"), "0 2 * * *", runs=daily(1), age=420)
    mailer = app("invoice-mailer", "stable", "backoffice")
    c.cronjob(ns, "invoice-mailer", mailer, pod_spec([
        ctr("mailer", "ghcr.io/acme/invoice-mailer:stable", pull="IfNotPresent",
            env={"SMTP_HOST": "email-smtp.eu-west-1.amazonaws.com", "SMTP_USER": "AKIA4XQ7Z2KD9LMWN3PB",
                 "SMTP_PASSWORD": ("secret", "smtp-relay", "password")},
            res=res("100m", "128Mi", "500m", "256Mi")),
    ], restart="OnFailure"), "0 6 * * 1-5", runs=[NOW.replace(hour=5, minute=0, second=0) - timedelta(days=d) for d in (1, 0)],
        age=380)
    reindex = app("search-reindex", "3.3.1", "shop")
    c.job(ns, "search-reindex-manual-20251102", reindex, pod_spec([
        ctr("reindex", "ghcr.io/acme/catalog:3.3.1", command=["/app/bin/reindex", "--full"],
            env={"ELASTICSEARCH_URL": "http://search.shop.svc.cluster.local:9200"}),
    ], restart="Never"), datetime(2025, 11, 2, 14, 12, 5, tzinfo=UTC), backoff=1)


def default_namespace(c: Cluster) -> None:
    ns = "default"
    hello = {"app": "hello-nginx"}
    c.deployment(ns, "hello-nginx", hello, pod_spec([ctr("nginx", "nginx", ports=[80])]), age=610)
    c.service(ns, "hello-nginx", hello, hello, [("http", 80, 80)], age=610)
    c.pod("netshoot", ns, {"metadata": {"labels": {"run": "netshoot"}}, "spec": pod_spec([
        ctr("netshoot", "nicolaka/netshoot:latest", args=["sleep", "infinity"], stdin=True, tty=True),
    ], hostAliases=[{"hostnames": ["payments-db"], "ip": "10.40.2.88"}])}, days_ago(23, "netshoot"))


# == RBAC and network policy ================================================================
def rule(groups: list[str], resources: list[str], verbs: list[str], **extra: Any) -> Obj:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs, **extra}


READ = ["get", "list", "watch"]
DEFAULTS = {"labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}}


def subject(kind: str, name: str, namespace: str | None = None) -> Obj:
    if kind == "ServiceAccount":
        return {"kind": kind, "name": name, "namespace": namespace}
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}


def rbac(c: Cluster) -> None:
    def cluster_role(name: str, rules: list[Obj] | None, *, age: float = 636, aggregate: str | None = None,
                     labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None) -> Obj:
        body: Obj = {"rules": rules or []}
        if aggregate:
            body = {"aggregationRule": {"clusterRoleSelectors": [
                {"matchLabels": {f"rbac.authorization.k8s.io/aggregate-to-{aggregate}": "true"}}]}, **body}
        return c.simple("rbac.authorization.k8s.io/v1", "ClusterRole", name, None, body, age=age,
                        labels=labels, annotations=annotations)

    def binding(kind: str, name: str, namespace: str | None, role_kind: str, role: str, subjects: list[Obj], *,
                age: float = 300, labels: dict[str, str] | None = None,
                annotations: dict[str, str] | None = None) -> Obj:
        return c.simple("rbac.authorization.k8s.io/v1", kind, name, namespace, {
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
            "subjects": subjects}, age=age, labels=labels, annotations=annotations)

    # -- bootstrap defaults (abridged to the roles that matter) --------------------------------
    cluster_role("cluster-admin", [rule(["*"], ["*"], ["*"]), {"nonResourceURLs": ["*"], "verbs": ["*"]}], **DEFAULTS)
    to_view = [
        rule([""], ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
                    "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
                    "services/status"], READ),
        rule([""], ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
                    "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"], READ),
        rule([""], ["namespaces"], READ),
        rule(["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                        "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets",
                        "statefulsets/scale", "statefulsets/status"], READ),
        rule(["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], READ),
        rule(["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], READ),
        rule(["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"], READ),
        rule(["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"], READ),
    ]
    to_edit = [
        rule([""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], READ),
        rule([""], ["serviceaccounts"], ["impersonate"]),
        rule([""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"],
             ["create", "delete", "deletecollection", "patch", "update"]),
        rule([""], ["pods/eviction"], ["create"]),
        rule([""], ["configmaps", "endpoints", "persistentvolumeclaims", "replicationcontrollers",
                    "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"],
             ["create", "delete", "deletecollection", "patch", "update"]),
        rule([""], ["serviceaccounts/token"], ["create"]),
        rule(["apps"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
                        "replicasets/scale", "statefulsets", "statefulsets/scale"],
             ["create", "delete", "deletecollection", "patch", "update"]),
        rule(["batch"], ["cronjobs", "jobs"], ["create", "delete", "deletecollection", "patch", "update"]),
        rule(["networking.k8s.io"], ["ingresses", "networkpolicies"], ["create", "delete", "deletecollection", "patch", "update"]),
    ]
    to_admin = [
        rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
        rule(["rbac.authorization.k8s.io"], ["rolebindings", "roles"],
             ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]),
    ]
    metrics_reader = [rule(["metrics.k8s.io"], ["pods", "nodes"], READ)]
    for level, rules in (("view", to_view), ("edit", to_edit), ("admin", to_admin)):
        cluster_role(f"system:aggregate-to-{level}", rules,
                     labels={**DEFAULTS["labels"], f"rbac.authorization.k8s.io/aggregate-to-{level}": "true"},
                     annotations=DEFAULTS["annotations"])
    ms_labels, ms_ann = helm("metrics-server", "3.12.1", "0.7.1", "metrics-server", "kube-system", "metrics-server")
    cluster_role("system:metrics-server-aggregated-reader", metrics_reader, age=400, annotations=ms_ann, labels={
        **ms_labels, "rbac.authorization.k8s.io/aggregate-to-admin": "true",
        "rbac.authorization.k8s.io/aggregate-to-edit": "true", "rbac.authorization.k8s.io/aggregate-to-view": "true"})
    # what the aggregation controller has written into the aggregated roles
    view = to_view + metrics_reader
    edit = to_edit + view
    cluster_role("view", view, aggregate="view", labels={**DEFAULTS["labels"],
                 "rbac.authorization.k8s.io/aggregate-to-edit": "true"}, annotations=DEFAULTS["annotations"])
    cluster_role("edit", edit, aggregate="edit", labels={**DEFAULTS["labels"],
                 "rbac.authorization.k8s.io/aggregate-to-admin": "true"}, annotations=DEFAULTS["annotations"])
    cluster_role("admin", to_admin + edit, aggregate="admin", **DEFAULTS)
    cluster_role("system:public-info-viewer", [{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version",
                                                                     "/version/"], "verbs": ["get"]}], **DEFAULTS)
    cluster_role("system:discovery", [{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                                            "/openapi", "/openapi/*", "/readyz", "/version", "/version/"],
                                       "verbs": ["get"]}], **DEFAULTS)
    cluster_role("system:basic-user", [rule(["authorization.k8s.io"], ["selfsubjectaccessreviews",
                                                                        "selfsubjectrulesreviews"], ["create"]),
                                       rule(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"])], **DEFAULTS)
    cluster_role("system:node-proxier", [rule([""], ["endpoints", "services"], ["list", "watch"]),
                                         rule([""], ["nodes"], READ),
                                         rule(["", "events.k8s.io"], ["events"], ["create", "patch", "update"]),
                                         rule(["discovery.k8s.io"], ["endpointslices"], ["list", "watch"])], **DEFAULTS)
    cluster_role("system:coredns", [rule([""], ["endpoints", "services", "pods", "namespaces"], ["list", "watch"]),
                                    rule(["discovery.k8s.io"], ["endpointslices"], ["list", "watch"])])
    for name, group, subjects in (
        ("cluster-admin", "cluster-admin", [subject("Group", "system:masters")]),
        ("system:public-info-viewer", "system:public-info-viewer",
         [subject("Group", "system:authenticated"), subject("Group", "system:unauthenticated")]),
        ("system:discovery", "system:discovery", [subject("Group", "system:authenticated")]),
        ("system:basic-user", "system:basic-user", [subject("Group", "system:authenticated")]),
    ):
        binding("ClusterRoleBinding", name, None, "ClusterRole", group, subjects, age=636, **DEFAULTS)
    binding("ClusterRoleBinding", "kubeadm:cluster-admins", None, "ClusterRole", "cluster-admin",
            [subject("Group", "kubeadm:cluster-admins")], age=636)
    binding("ClusterRoleBinding", "kubeadm:node-proxier", None, "ClusterRole", "system:node-proxier",
            [subject("ServiceAccount", "kube-proxy", "kube-system")], age=636)
    binding("ClusterRoleBinding", "system:coredns", None, "ClusterRole", "system:coredns",
            [subject("ServiceAccount", "coredns", "kube-system")], age=636)

    # -- add-ons --------------------------------------------------------------------------
    cluster_role("calico-node", [
        rule([""], ["pods", "nodes", "namespaces"], ["get"]),
        rule([""], ["endpoints", "services"], ["watch", "list", "get"]),
        rule([""], ["nodes/status"], ["patch", "update"]),
        rule(["networking.k8s.io"], ["networkpolicies"], ["watch", "list"]),
        rule(["crd.projectcalico.org"], ["globalfelixconfigs", "felixconfigurations", "bgppeers", "globalbgpconfigs",
                                         "bgpconfigurations", "ippools", "ipreservations", "ipamblocks",
                                         "globalnetworkpolicies", "globalnetworksets", "networkpolicies",
                                         "networksets", "clusterinformations", "hostendpoints", "blockaffinities",
                                         "caliconodestatuses"], ["get", "list", "watch"]),
        rule([""], ["serviceaccounts/token"], ["create"], resourceNames=["calico-cni-plugin"]),
    ], age=630)
    cluster_role("calico-kube-controllers", [
        rule([""], ["nodes"], ["watch", "list", "get"]),
        rule(["crd.projectcalico.org"], ["ipreservations", "ippools", "blockaffinities", "ipamblocks", "ipamhandles",
                                         "kubecontrollersconfigurations", "clusterinformations"],
             ["get", "list", "create", "update", "delete", "watch"]),
    ], age=630)
    binding("ClusterRoleBinding", "calico-node", None, "ClusterRole", "calico-node",
            [subject("ServiceAccount", "calico-node", "kube-system")], age=630)
    binding("ClusterRoleBinding", "calico-kube-controllers", None, "ClusterRole", "calico-kube-controllers",
            [subject("ServiceAccount", "calico-kube-controllers", "kube-system")], age=630)
    cluster_role("system:metrics-server", [rule([""], ["nodes/metrics"], ["get"]),
                                           rule([""], ["pods", "nodes"], READ)], labels=ms_labels, annotations=ms_ann, age=400)
    binding("ClusterRoleBinding", "system:metrics-server", None, "ClusterRole", "system:metrics-server",
            [subject("ServiceAccount", "metrics-server", "kube-system")], labels=ms_labels, annotations=ms_ann, age=400)
    binding("RoleBinding", "metrics-server-auth-reader", "kube-system", "Role", "extension-apiserver-authentication-reader",
            [subject("ServiceAccount", "metrics-server", "kube-system")], labels=ms_labels, annotations=ms_ann, age=400)
    c.simple("rbac.authorization.k8s.io/v1", "Role", "extension-apiserver-authentication-reader", "kube-system", {
        "rules": [rule([""], ["configmaps"], READ, resourceNames=["extension-apiserver-authentication"])]},
        age=636, **DEFAULTS)
    ebs_labels, ebs_ann = helm("aws-ebs-csi-driver", "2.31.0", "1.31.0", "aws-ebs-csi-driver", "kube-system", "aws-ebs-csi-driver")
    cluster_role("ebs-csi-node-role", [rule([""], ["nodes"], ["get", "patch"]),
                                       rule(["storage.k8s.io"], ["volumeattachments"], READ),
                                       rule(["storage.k8s.io"], ["csinodes"], ["get"])],
                 labels=ebs_labels, annotations=ebs_ann, age=380)
    binding("ClusterRoleBinding", "ebs-csi-node-getter-binding", None, "ClusterRole", "ebs-csi-node-role",
            [subject("ServiceAccount", "ebs-csi-node-sa", "kube-system")], labels=ebs_labels, annotations=ebs_ann, age=380)
    # approves kubelet serving certificates: CSR approval is a privilege of its own
    cluster_role("kubelet-csr-approver", [
        rule(["certificates.k8s.io"], ["certificatesigningrequests"], READ),
        rule(["certificates.k8s.io"], ["certificatesigningrequests/approval"], ["update"]),
        rule(["certificates.k8s.io"], ["signers"], ["approve"], resourceNames=["kubernetes.io/kubelet-serving"]),
        rule([""], ["events"], ["create"]),
    ], age=250, annotations={"meta.helm.sh/release-name": "kubelet-csr-approver", "meta.helm.sh/release-namespace": "kube-system"})
    binding("ClusterRoleBinding", "kubelet-csr-approver", None, "ClusterRole", "kubelet-csr-approver",
            [subject("ServiceAccount", "kubelet-csr-approver", "kube-system")], age=250)

    # ingress-nginx: cluster-wide read without secrets; secrets only in its own namespace
    # (TLS is served from --default-ssl-certificate)
    in_labels, in_ann = helm("ingress-nginx", "4.10.1", "1.10.1", "ingress-nginx", "ingress-nginx", "ingress-nginx")
    cluster_role("ingress-nginx", [
        rule([""], ["configmaps", "endpoints", "nodes", "pods", "namespaces"], ["list", "watch"]),
        rule(["coordination.k8s.io"], ["leases"], ["list", "watch"]),
        rule([""], ["nodes"], ["get"]),
        rule([""], ["services"], READ),
        rule(["networking.k8s.io"], ["ingresses", "ingressclasses"], READ),
        rule([""], ["events"], ["create", "patch"]),
        rule(["networking.k8s.io"], ["ingresses/status"], ["update"]),
        rule(["discovery.k8s.io"], ["endpointslices"], ["list", "watch", "get"]),
    ], labels=in_labels, annotations=in_ann, age=610)
    binding("ClusterRoleBinding", "ingress-nginx", None, "ClusterRole", "ingress-nginx",
            [subject("ServiceAccount", "ingress-nginx", "ingress-nginx")], labels=in_labels, annotations=in_ann, age=610)
    c.simple("rbac.authorization.k8s.io/v1", "Role", "ingress-nginx", "ingress-nginx", {"rules": [
        rule([""], ["namespaces"], ["get"]),
        rule([""], ["configmaps", "pods", "secrets", "endpoints"], READ),
        rule([""], ["services"], READ),
        rule(["coordination.k8s.io"], ["leases"], ["get", "update"], resourceNames=["ingress-nginx-leader"]),
        rule(["coordination.k8s.io"], ["leases"], ["create"]),
        rule([""], ["events"], ["create", "patch"]),
    ]}, labels=in_labels, annotations=in_ann, age=610)
    binding("RoleBinding", "ingress-nginx", "ingress-nginx", "Role", "ingress-nginx",
            [subject("ServiceAccount", "ingress-nginx", "ingress-nginx")], labels=in_labels, annotations=in_ann, age=610)
    c.simple("rbac.authorization.k8s.io/v1", "Role", "ingress-nginx-admission", "ingress-nginx", {"rules": [
        rule([""], ["secrets"], ["get", "create"])]}, age=610)
    binding("RoleBinding", "ingress-nginx-admission", "ingress-nginx", "Role", "ingress-nginx-admission",
            [subject("ServiceAccount", "ingress-nginx-admission", "ingress-nginx")], age=610)
    cluster_role("ingress-nginx-admission", [rule(["admissionregistration.k8s.io"], ["validatingwebhookconfigurations"],
                                                  ["get", "update"])], age=610)
    binding("ClusterRoleBinding", "ingress-nginx-admission", None, "ClusterRole", "ingress-nginx-admission",
            [subject("ServiceAccount", "ingress-nginx-admission", "ingress-nginx")], age=610)

    # monitoring: prometheus scrapes kubelets through the API server proxy, and someone added
    # secrets so it could read basic-auth for scrape targets
    prom_labels, prom_ann = helm("prometheus", "25.21.0", "v2.53.0", "prometheus", "monitoring", "prometheus", "server")
    cluster_role("prometheus-server", [
        rule([""], ["nodes", "nodes/proxy", "nodes/metrics", "services", "endpoints", "pods", "ingresses", "configmaps"], READ),
        rule(["extensions", "networking.k8s.io"], ["ingresses/status", "ingresses"], READ),
        rule(["discovery.k8s.io"], ["endpointslices"], READ),
        rule([""], ["secrets"], ["get", "list"]),
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
    ], labels=prom_labels, annotations=prom_ann, age=605)
    binding("ClusterRoleBinding", "prometheus-server", None, "ClusterRole", "prometheus-server",
            [subject("ServiceAccount", "prometheus-server", "monitoring")], labels=prom_labels, annotations=prom_ann, age=605)
    ksm_labels, ksm_ann = helm("kube-state-metrics", "5.21.0", "2.12.0", "kube-state-metrics", "monitoring", "kube-state-metrics")
    cluster_role("kube-state-metrics", [
        rule(["certificates.k8s.io"], ["certificatesigningrequests"], ["list", "watch"]),
        rule([""], ["configmaps", "endpoints", "limitranges", "namespaces", "nodes", "persistentvolumeclaims",
                    "persistentvolumes", "pods", "resourcequotas", "secrets", "services"], ["list", "watch"]),
        rule(["apps"], ["daemonsets", "deployments", "replicasets", "statefulsets"], ["list", "watch"]),
        rule(["batch"], ["cronjobs", "jobs"], ["list", "watch"]),
        rule(["autoscaling"], ["horizontalpodautoscalers"], ["list", "watch"]),
        rule(["networking.k8s.io"], ["ingresses", "networkpolicies"], ["list", "watch"]),
        rule(["policy"], ["poddisruptionbudgets"], ["list", "watch"]),
        rule(["storage.k8s.io"], ["storageclasses", "volumeattachments"], ["list", "watch"]),
        rule(["coordination.k8s.io"], ["leases"], ["list", "watch"]),
    ], labels=ksm_labels, annotations=ksm_ann, age=605)
    binding("ClusterRoleBinding", "kube-state-metrics", None, "ClusterRole", "kube-state-metrics",
            [subject("ServiceAccount", "kube-state-metrics", "monitoring")], labels=ksm_labels, annotations=ksm_ann, age=605)
    gf_labels, gf_ann = helm("grafana", "8.3.2", "11.1.0", "grafana", "monitoring", "grafana")
    c.simple("rbac.authorization.k8s.io/v1", "Role", "grafana", "monitoring", {"rules": [
        rule([""], ["configmaps"], READ)]}, labels=gf_labels, annotations=gf_ann, age=605)
    binding("RoleBinding", "grafana", "monitoring", "Role", "grafana",
            [subject("ServiceAccount", "grafana", "monitoring")], labels=gf_labels, annotations=gf_ann, age=605)
    fb_labels, fb_ann = helm("fluent-bit", "0.47.1", "3.0.7", "fluent-bit", "monitoring", "fluent-bit")
    cluster_role("fluent-bit", [rule([""], ["namespaces", "pods"], READ)], labels=fb_labels, annotations=fb_ann, age=380)
    binding("ClusterRoleBinding", "fluent-bit", None, "ClusterRole", "fluent-bit",
            [subject("ServiceAccount", "fluent-bit", "monitoring")], labels=fb_labels, annotations=fb_ann, age=380)

    # -- what people added by hand over the years -------------------------------------------
    jk_labels, jk_ann = helm("jenkins", "5.3.1", "2.462.1", "jenkins", "ci", "jenkins")
    binding("ClusterRoleBinding", "jenkins-cluster-admin", None, "ClusterRole", "cluster-admin",
            [subject("ServiceAccount", "jenkins", "ci")], age=588,
            annotations={"acme.example/ticket": "PLAT-118 jenkins needs to deploy everywhere"})
    c.simple("rbac.authorization.k8s.io/v1", "Role", "jenkins-schedule-agents", "ci", {"rules": [
        rule([""], ["pods", "pods/exec", "pods/log", "persistentvolumeclaims", "events"], ["create", "delete", "get",
                                                                                          "list", "patch", "update", "watch"]),
    ]}, labels=jk_labels, annotations=jk_ann, age=590)
    binding("RoleBinding", "jenkins-schedule-agents", "ci", "Role", "jenkins-schedule-agents",
            [subject("ServiceAccount", "jenkins", "ci")], labels=jk_labels, annotations=jk_ann, age=590)

    cluster_role("platform-rbac-manager", [
        rule(["rbac.authorization.k8s.io"], ["clusterroles", "roles"], ["bind", "escalate", "get", "list", "create",
                                                                        "update", "patch"]),
        rule(["rbac.authorization.k8s.io"], ["clusterrolebindings", "rolebindings"], ["*"]),
        rule([""], ["users", "groups", "serviceaccounts"], ["impersonate"]),
    ], age=500)
    binding("ClusterRoleBinding", "platform-rbac-manager", None, "ClusterRole", "platform-rbac-manager",
            [subject("Group", "acme:platform-admins")], age=500)

    cluster_role("status-page-reader", [rule([""], ["nodes", "services", "pods"], ["get", "list"]),
                                        rule(["apps"], ["deployments"], ["get", "list"])], age=330)
    binding("ClusterRoleBinding", "status-page-anonymous", None, "ClusterRole", "status-page-reader",
            [subject("Group", "system:unauthenticated")], age=330,
            annotations={"acme.example/ticket": "OPS-1840 status page polls the API without credentials"})

    cluster_role("serviceaccount-token-issuer", [rule([""], ["serviceaccounts/token"], ["create"]),
                                                 rule([""], ["serviceaccounts"], ["get", "list"])], age=280)
    binding("ClusterRoleBinding", "payments-worker-token-issuer", None, "ClusterRole", "serviceaccount-token-issuer",
            [subject("ServiceAccount", "payments-worker", "payments")], age=280,
            annotations={"acme.example/ticket": "PAY-2207 mint tokens for the ledger sync"})

    cluster_role("namespace-lister", [rule([""], ["namespaces"], ["get", "list"])], age=410)
    binding("ClusterRoleBinding", "developer-portal-namespaces", None, "ClusterRole", "namespace-lister",
            [subject("Group", "system:authenticated")], age=410,
            annotations={"acme.example/ticket": "PLAT-402 portal lists namespaces for every SSO user"})
    cluster_role("data-platform-storage", [
        rule([""], ["persistentvolumes"], ["create", "delete", "get", "list", "patch", "watch"]),
        rule(["storage.k8s.io"], ["storageclasses"], ["get", "list"])], age=540)
    binding("ClusterRoleBinding", "data-platform-storage", None, "ClusterRole", "data-platform-storage",
            [subject("Group", "acme:data-platform")], age=540,
            annotations={"acme.example/ticket": "DATA-233 restore EBS snapshots as PVs"})

    c.simple("rbac.authorization.k8s.io/v1", "Role", "batch-operator", "batch", {"rules": [
        rule(["*"], ["*"], ["*"])]}, age=410)
    binding("RoleBinding", "batch-operator", "batch", "Role", "batch-operator",
            [subject("ServiceAccount", "report-runner", "batch")], age=410)

    c.simple("rbac.authorization.k8s.io/v1", "Role", "storefront-config-reader", "shop", {"rules": [
        rule([""], ["configmaps", "secrets"], ["get", "list", "watch"])]}, labels=app("storefront", "4.12.0", "shop"), age=600)
    binding("RoleBinding", "storefront-config-reader", "shop", "Role", "storefront-config-reader",
            [subject("ServiceAccount", "storefront", "shop")], labels=app("storefront", "4.12.0", "shop"), age=600)
    c.simple("rbac.authorization.k8s.io/v1", "Role", "shop-debug", "shop", {"rules": [
        rule([""], ["pods", "pods/log"], READ), rule([""], ["pods/exec", "pods/portforward"], ["create", "get"])]}, age=450)
    binding("RoleBinding", "shop-developers-debug", "shop", "Role", "shop-debug",
            [subject("Group", "acme:developers")], age=450)
    binding("RoleBinding", "shop-developers-view", "shop", "ClusterRole", "view",
            [subject("Group", "acme:developers")], age=450)
    binding("RoleBinding", "shop-legacy-deployer", "shop", "Role", "deployer",
            [subject("ServiceAccount", "jenkins", "ci")], age=570)
    binding("RoleBinding", "payments-ci-deploy", "payments", "ClusterRole", "edit",
            [subject("ServiceAccount", "gitlab-runner", "ci")], age=590,
            annotations={"acme.example/ticket": "PAY-301 deploy from GitLab"})
    binding("RoleBinding", "payments-oncall", "payments", "ClusterRole", "view",
            [subject("Group", "acme:payments-oncall")], age=500)
    binding("RoleBinding", "pgadmin-admin", "data", "ClusterRole", "admin",
            [subject("ServiceAccount", "pgadmin", "data")], age=320)
    binding("RoleBinding", "data-platform-admin", "data", "ClusterRole", "admin",
            [subject("Group", "acme:data-platform")], age=590)


def network_policies(c: Cluster) -> None:
    def policy(namespace: str, name: str, selector: Obj, types: list[str], ingress: list[Obj] | None = None,
               age: float = 400) -> None:
        spec: Obj = {"podSelector": selector, "policyTypes": types}
        if ingress is not None:
            spec["ingress"] = ingress
        c.simple("networking.k8s.io/v1", "NetworkPolicy", name, namespace, {"spec": spec}, age=age, generation=1)

    def from_ns(*names: str) -> list[Obj]:
        return [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": n}}} for n in names]

    policy("payments", "default-deny-ingress", {}, ["Ingress"], age=590)
    policy("payments", "allow-ingress-nginx-to-api", {"matchLabels": {"app.kubernetes.io/name": "payments-api"}},
           ["Ingress"], [{"from": from_ns("ingress-nginx"), "ports": [{"port": 8080, "protocol": "TCP"}]}], age=590)
    policy("payments", "allow-internal", {}, ["Ingress"],
           [{"from": [{"podSelector": {}}]}], age=590)
    policy("payments", "allow-prometheus-scrape", {}, ["Ingress"],
           [{"from": from_ns("monitoring"), "ports": [{"port": 9090, "protocol": "TCP"}]}], age=590)
    policy("data", "default-deny-ingress", {}, ["Ingress"], age=590)
    policy("data", "allow-postgres-clients", {"matchLabels": {"app.kubernetes.io/name": "postgresql"}}, ["Ingress"],
           [{"from": from_ns("payments", "shop", "batch", "ci") + [{"podSelector": {}}],
             "ports": [{"port": 5432, "protocol": "TCP"}]},
            {"from": [{"ipBlock": {"cidr": "10.8.0.0/16"}}, {"ipBlock": {"cidr": "172.20.14.0/24"}}],
             "ports": [{"port": 5432, "protocol": "TCP"}]}], age=590)
    policy("data", "allow-redis-from-shop", {"matchLabels": {"app.kubernetes.io/name": "redis"}}, ["Ingress"],
           [{"from": from_ns("shop"), "ports": [{"port": 6379, "protocol": "TCP"}]}], age=590)


def storage(c: Cluster) -> None:
    c.simple("storage.k8s.io/v1", "StorageClass", "gp3", None, {
        "allowVolumeExpansion": True, "parameters": {"encrypted": "true", "type": "gp3"},
        "provisioner": "ebs.csi.aws.com", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"},
        annotations={"storageclass.kubernetes.io/is-default-class": "true"}, age=600)


# == output =================================================================================
FILE_ORDER = ("cluster", "kube-system", "kube-public", "kube-node-lease", "default", "ingress-nginx", "shop",
              "payments", "data", "monitoring", "ci", "batch")
KIND_ORDER = ("Namespace", "Node", "StorageClass", "IngressClass", "ValidatingWebhookConfiguration", "ClusterRole",
              "ClusterRoleBinding", "ResourceQuota", "LimitRange", "ServiceAccount", "Secret", "ConfigMap", "Role",
              "RoleBinding", "NetworkPolicy", "Service", "Ingress", "Deployment", "ReplicaSet", "StatefulSet",
              "DaemonSet", "ControllerRevision", "CronJob", "Job", "Pod", "PersistentVolumeClaim", "PodDisruptionBudget",
              "HorizontalPodAutoscaler", "Lease")


def build() -> list[Obj]:
    c = Cluster()
    nodes(c)
    namespaces(c)
    storage(c)
    kube_system(c)
    ingress_nginx(c)
    shop(c)
    payments(c)
    data(c)
    monitoring(c)
    ci(c)
    batch(c)
    default_namespace(c)
    rbac(c)
    network_policies(c)
    return c.objects


def render() -> dict[str, str]:
    """File name → YAML stream: one file per namespace plus `cluster.yaml` for cluster-scoped objects."""
    files: dict[str, list[Obj]] = defaultdict(list)
    for obj in build():
        files[obj["metadata"].get("namespace") or "cluster"].append(obj)
    out: dict[str, str] = {}
    for name in FILE_ORDER:
        objs = sorted(files.pop(name), key=lambda o: (KIND_ORDER.index(o["kind"]), o["metadata"]["name"]))
        header = (f"# {CLUSTER}: " + ("cluster-scoped objects" if name == "cluster" else f"namespace {name}")
                  + "\n# generated by tools/make_demo.py; do not edit by hand\n")
        out[f"{name}.yaml"] = header + "".join("---\n" + dump_kubectl_yaml({k: v for k, v in o.items() if not k.startswith("_")}) for o in objs)
    assert not files, f"objects in namespaces without a file: {sorted(files)}"
    return out


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    rendered = render()
    for stale in OUT_DIR.glob("*.yaml"):
        if stale.name not in rendered:
            stale.unlink()
    for name, text in rendered.items():
        (OUT_DIR / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(rendered)} files to {OUT_DIR.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
