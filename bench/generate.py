"""A synthetic cluster of N workloads, written as `kubectl get -o yaml` writes it.

One `kind: List` file per namespace (what `kubectl get deploy,rs,sts,ds,cj,job,pod,svc,cm,sa,
role,rolebinding,netpol -n NS -o yaml` prints) plus one for cluster-scoped objects. Objects
carry what the API server adds: uid, resourceVersion, creationTimestamp, defaulted fields,
status; Pods carry the projected service-account token volume, default tolerations and
status conditions. Owned objects are there as in a real cluster: a Deployment's ReplicaSets
and their Pods (sharing the ReplicaSet's template), a CronJob's Jobs and their Pods, a
StatefulSet's and a DaemonSet's Pods.

Pod templates vary (images, resources, security contexts, env, probes, volumes), so that
identical-template caching gives no unfair advantage. Output is deterministic for a given
(size, seed, shape) and cached under `bench/.cache/` (git-ignored): regenerated only when this
file changes.

Shapes: `bench` (the default mix above) and `heavy`, the same cluster with about 4× the
findings per workload: every pod runs four sidecars and an init container, no container is
hardened and most have no resources (what a cluster that never ran a posture tool looks like).

    python bench/generate.py 10000            # prints the directory it wrote
    python bench/generate.py 10000 --shape heavy
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import random
import shutil
import string
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

BENCH = Path(__file__).resolve().parent
CACHE = BENCH / ".cache"
SEED = 20240611
WORKLOADS_PER_NAMESPACE = 100

_Dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

TEAMS = ("payments", "checkout", "search", "catalog", "identity", "billing", "ledger", "orders",
         "shipping", "inventory", "pricing", "reviews", "ads", "analytics", "notifications",
         "profile", "media", "recs", "fraud", "support", "ml", "data", "platform", "growth")
PARTS = ("api", "worker", "web", "gateway", "consumer", "scheduler", "sync", "indexer", "cache",
         "exporter", "proxy", "frontend", "backend", "processor", "reporter", "admin", "grpc")
IMAGES = (
    ("docker.io/library/nginx", ("1.25.4", "1.27.0", "1.27.2-alpine", "latest")),
    ("docker.io/library/redis", ("7.2.4", "7.4.1-alpine")),
    ("docker.io/library/postgres", ("15.6", "16.3", "16.4-bookworm")),
    ("quay.io/prometheus/node-exporter", ("v1.7.0", "v1.8.2")),
    ("ghcr.io/acme/{team}-{part}", ("1.{a}.{b}", "2.{a}.{b}", "sha-{sha}", "main")),
    ("registry.acme.internal/{team}/{part}", ("v{a}.{b}.{c}", "{a}.{b}.{c}-rc1", "latest")),
    ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/{team}-{part}", ("build-{c}{b}{a}", "v{a}.{b}")),
    ("gcr.io/distroless/java17-debian12", ("nonroot", "latest")),
    ("busybox", ("1.36", "")),
    ("python", ("3.12-slim", "3.11")),
    ("mcr.microsoft.com/dotnet/aspnet", ("8.0", "8.0-jammy-chiseled")),
)
NODE_COUNT_PER_1K = 5
SHAPES = ("bench", "heavy")


class Gen:
    """Deterministic object factory: one RNG, one clock, monotonically rising resourceVersions."""

    def __init__(self, seed: int, heavy: bool = False) -> None:
        self.rng = random.Random(seed)
        self.heavy = heavy  # the findings-heavy shape: no hardened container, sidecars everywhere
        self.rv = 100_000
        self.epoch = datetime(2025, 3, 1, tzinfo=UTC)
        self.nodes = [f"ip-10-{self.rng.randint(0, 255)}-{self.rng.randint(0, 255)}-"
                      f"{self.rng.randint(1, 254)}.eu-west-1.compute.internal" for _ in range(64)]

    # -- small helpers ------------------------------------------------------------------
    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def version(self) -> str:
        self.rv += self.rng.randint(1, 500)
        return str(self.rv)

    def stamp(self, after: datetime | None = None) -> str:
        base = after or self.epoch
        return _ts(base + timedelta(seconds=self.rng.randint(60, 86400 * 60)))

    def suffix(self, n: int = 5) -> str:
        return "".join(self.rng.choices("bcdfghjklmnpqrstvwxz2456789", k=n))

    def hexid(self, n: int) -> str:
        return "".join(self.rng.choices("0123456789abcdef", k=n))

    def meta(self, name: str, namespace: str | None, labels: dict[str, str] | None = None,
             annotations: dict[str, str] | None = None, created: str | None = None,
             generation: int | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"creationTimestamp": created or self.stamp()}
        if annotations:
            meta["annotations"] = annotations
        if generation is not None:
            meta["generation"] = generation
        if labels:
            meta["labels"] = labels
        meta["name"] = name
        if namespace:
            meta["namespace"] = namespace
        meta["resourceVersion"] = self.version()
        meta["uid"] = self.uid()
        return meta

    # -- pod templates -----------------------------------------------------------------
    def image(self, team: str, part: str) -> str:
        repo, tags = self.rng.choice(IMAGES)
        tag = self.rng.choice(tags).format(a=self.rng.randint(0, 30), b=self.rng.randint(0, 40),
                                           c=self.rng.randint(0, 300), sha=self.hexid(7))
        repo = repo.format(team=team, part=part)
        if self.rng.random() < 0.12:
            return f"{repo}@sha256:{self.hexid(64)}"
        return f"{repo}:{tag}" if tag else repo

    def security_context(self) -> dict[str, Any] | None:
        """A mix like real clusters: many unset, some hardened, a few dangerous."""
        roll = self.rng.random()
        if self.heavy and 0.35 <= roll < 0.65:  # the hardened share becomes weak ones
            roll += 0.3
        if roll < 0.35:
            return None
        if roll < 0.65:
            return {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                    "readOnlyRootFilesystem": self.rng.random() < 0.7, "runAsNonRoot": True,
                    "runAsUser": self.rng.choice((1000, 10001, 65532, 101)),
                    "seccompProfile": {"type": "RuntimeDefault"}}
        if roll < 0.85:
            sc: dict[str, Any] = {"runAsUser": self.rng.choice((0, 1000, 33))}
            if self.rng.random() < 0.5:
                sc["allowPrivilegeEscalation"] = self.rng.random() < 0.4
            if self.rng.random() < 0.3:
                sc["capabilities"] = {"add": self.rng.sample(["NET_ADMIN", "SYS_TIME", "NET_BIND_SERVICE",
                                                              "SYS_PTRACE", "CHOWN"], 2)}
            return sc
        if roll < 0.93:
            return {"readOnlyRootFilesystem": False}
        return {"privileged": True, "runAsUser": 0}

    def resources(self) -> dict[str, Any]:
        if self.rng.random() < (0.7 if self.heavy else 0.2):
            return {}
        cpu = self.rng.choice(("50m", "100m", "250m", "500m", "1", "2"))
        mem = self.rng.choice(("64Mi", "128Mi", "256Mi", "512Mi", "1Gi", "2Gi", "4Gi"))
        res: dict[str, Any] = {"requests": {"cpu": cpu, "memory": mem}}
        if self.rng.random() < 0.6:
            res["limits"] = {"memory": mem} if self.rng.random() < 0.5 else {"cpu": cpu, "memory": mem}
        return res

    def container(self, name: str, team: str, part: str, volumes: list[str], *,
                  init: bool = False) -> dict[str, Any]:
        c: dict[str, Any] = {"name": name, "image": self.image(team, part)}
        if init:
            c["command"] = ["sh", "-c", f"until nslookup {team}-db; do sleep 2; done"]
        elif self.rng.random() < 0.3:
            c["args"] = [f"--port={self.rng.choice((8080, 8443, 9090))}", "--log-level=info",
                         f"--config=/etc/{part}/config.yaml"]
        env = []
        for i in range(self.rng.randint(0, 4)):
            roll = self.rng.random()
            key = self.rng.choice(("LOG_LEVEL", "PORT", "DB_HOST", "FEATURE_FLAGS", "REGION", "OTEL_ENDPOINT",
                                   "CACHE_TTL", "DB_PASSWORD", "API_TOKEN", "JAVA_OPTS", "WORKERS"))
            if roll < 0.15:
                env.append({"name": key, "valueFrom": {"secretKeyRef": {"key": key.lower(),
                                                                        "name": f"{team}-secrets"}}})
            elif roll < 0.22:
                env.append({"name": f"POD_{i}", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                                          "fieldPath": "metadata.name"}}})
            else:
                env.append({"name": key, "value": self.rng.choice(
                    ("info", "8080", f"{team}-db.{team}.svc", "eu-west-1", "-Xmx512m", "4", "300",
                     "hunter2", f"tok_{self.hexid(24)}", "http://otel-collector.observability:4317"))})
        if env:
            c["env"] = env
        if self.rng.random() < 0.2:
            c["envFrom"] = [{"configMapRef": {"name": f"{team}-{part}-config"}}]
        c["imagePullPolicy"] = self.rng.choice(("IfNotPresent", "IfNotPresent", "Always"))
        if not init:
            port = self.rng.choice((80, 8080, 8443, 9090, 3000, 5432, 6379))
            c["ports"] = [{"containerPort": port, "name": "http" if port != 9090 else "metrics",
                           "protocol": "TCP"}]
            if self.rng.random() < 0.05:
                c["ports"][0]["hostPort"] = port
            if self.rng.random() < 0.65:
                probe = {"failureThreshold": 3, "httpGet": {"path": "/healthz", "port": port, "scheme": "HTTP"},
                         "periodSeconds": self.rng.choice((5, 10, 15)), "successThreshold": 1,
                         "timeoutSeconds": 1}
                c["livenessProbe"] = probe
                if self.rng.random() < 0.8:
                    c["readinessProbe"] = {**probe, "httpGet": {**probe["httpGet"], "path": "/ready"}}
        c["resources"] = self.resources()
        if (sc := self.security_context()) is not None:
            c["securityContext"] = sc
        c["terminationMessagePath"] = "/dev/termination-log"
        c["terminationMessagePolicy"] = "File"
        mounts = [{"mountPath": f"/etc/{v}", "name": v, "readOnly": True} for v in volumes]
        if mounts:
            c["volumeMounts"] = mounts
        return c

    def pod_spec(self, team: str, part: str, sa: str, restart: str = "Always") -> dict[str, Any]:
        volumes: list[dict[str, Any]] = []
        names: list[str] = []
        if self.rng.random() < 0.5:
            volumes.append({"configMap": {"defaultMode": 420, "name": f"{team}-{part}-config"}, "name": "config"})
            names.append("config")
        if self.rng.random() < 0.25:
            volumes.append({"name": "tls", "secret": {"defaultMode": 420, "secretName": f"{team}-{part}-tls"}})
            names.append("tls")
        if self.rng.random() < 0.04:
            volumes.append({"hostPath": {"path": self.rng.choice(("/var/log", "/var/run/docker.sock", "/")),
                                         "type": ""}, "name": "host"})
            names.append("host")
        if self.rng.random() < 0.3:
            volumes.append({"emptyDir": {}, "name": "tmp"})
            names.append("tmp")
        containers = [self.container(part, team, part, names)]
        sidecars = ("envoy", "istio-proxy", "log-shipper", "oauth2-proxy")
        if self.heavy:
            containers += [self.container(name, team, "sidecar", names[:1]) for name in sidecars]
        elif self.rng.random() < 0.25:
            containers.append(self.container(self.rng.choice(sidecars), team, "sidecar", names[:1]))
        spec: dict[str, Any] = {}
        if self.rng.random() < 0.3:
            spec["affinity"] = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"podAffinityTerm": {"labelSelector": {"matchLabels": {"app": f"{team}-{part}"}},
                                     "topologyKey": "kubernetes.io/hostname"}, "weight": 100}]}}
        if self.rng.random() < 0.1:
            spec["automountServiceAccountToken"] = False
        spec["containers"] = containers
        spec["dnsPolicy"] = "ClusterFirst"
        if self.rng.random() < 0.03:
            spec["hostNetwork"] = True
        if self.rng.random() < 0.02:
            spec["hostPID"] = True
        if self.heavy or self.rng.random() < 0.15:
            spec["initContainers"] = [self.container("wait-for-db", team, part, [], init=True)]
        if self.rng.random() < 0.2:
            spec["nodeSelector"] = {"kubernetes.io/os": "linux"}
        spec["restartPolicy"] = restart
        spec["schedulerName"] = "default-scheduler"
        pod_sc: dict[str, Any] = {}
        if self.rng.random() < 0.4:
            pod_sc = {"fsGroup": 2000, "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
        spec["securityContext"] = pod_sc
        spec["serviceAccount"] = sa
        spec["serviceAccountName"] = sa
        spec["terminationGracePeriodSeconds"] = self.rng.choice((30, 30, 60, 10))
        if volumes:
            spec["volumes"] = volumes
        return spec

    def template(self, labels: dict[str, str], spec: dict[str, Any]) -> dict[str, Any]:
        annotations = {}
        if self.rng.random() < 0.4:
            annotations["prometheus.io/scrape"] = "true"
            annotations["prometheus.io/port"] = "9090"
        if self.rng.random() < 0.2:
            annotations["kubectl.kubernetes.io/restartedAt"] = self.stamp()
        meta: dict[str, Any] = {}
        if annotations:
            meta["annotations"] = annotations
        meta["creationTimestamp"] = None
        meta["labels"] = labels
        return {"metadata": meta, "spec": spec}

    # -- pods as the API server stores them ---------------------------------------------
    def pod(self, name: str, namespace: str, template: dict[str, Any], owner: dict[str, Any] | None,
            extra_labels: dict[str, str], phase: str = "Running", node: str | None = None) -> dict[str, Any]:
        spec = copy.deepcopy(template["spec"])
        token = f"kube-api-access-{self.suffix()}"
        for c in spec["containers"] + spec.get("initContainers", []):
            c.setdefault("volumeMounts", []).append(
                {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": token, "readOnly": True})
        spec["enableServiceLinks"] = True
        spec["nodeName"] = node or self.rng.choice(self.nodes)
        spec["preemptionPolicy"] = "PreemptLowerPriority"
        spec["priority"] = 0
        spec["tolerations"] = [
            {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
             "tolerationSeconds": 300},
            {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists",
             "tolerationSeconds": 300},
        ]
        spec.setdefault("volumes", []).append({"name": token, "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
            {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                        "path": "namespace"}]}},
        ]}})
        created = self.stamp()
        meta = self.meta(name, namespace, {**(template["metadata"].get("labels") or {}), **extra_labels},
                         template["metadata"].get("annotations"), created)
        if owner is not None:
            meta["generateName"] = name[: name.rfind("-") + 1]
            meta["ownerReferences"] = [_owner_ref(owner)]
        ip = f"10.{self.rng.randint(0, 255)}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"
        host_ip = f"10.0.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"
        done = phase == "Succeeded"
        conditions = [
            {"lastProbeTime": None, "lastTransitionTime": created, "status": "True" if not done else "False",
             "type": t} for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                  "PodScheduled")
        ]
        statuses = []
        for c in spec["containers"]:
            state = ({"terminated": {"containerID": f"containerd://{self.hexid(64)}", "exitCode": 0,
                                     "finishedAt": created, "reason": "Completed", "startedAt": created}}
                     if done else {"running": {"startedAt": created}})
            statuses.append({
                "containerID": f"containerd://{self.hexid(64)}", "image": c["image"],
                "imageID": f"{c['image'].split('@')[0].rsplit(':', 1)[0]}@sha256:{self.hexid(64)}",
                "lastState": {}, "name": c["name"], "ready": not done,
                "restartCount": self.rng.choice((0, 0, 0, 1, 3)), "started": not done, "state": state,
            })
        status = {"conditions": conditions, "containerStatuses": statuses, "hostIP": host_ip,
                  "hostIPs": [{"ip": host_ip}], "phase": phase, "podIP": ip, "podIPs": [{"ip": ip}],
                  "qosClass": _qos(spec), "startTime": created}
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _owner_ref(owner: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": owner["apiVersion"], "blockOwnerDeletion": True, "controller": True,
            "kind": owner["kind"], "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"]}


def _qos(spec: dict[str, Any]) -> str:
    res = [c.get("resources") or {} for c in spec["containers"]]
    if not any(r.get("requests") or r.get("limits") for r in res):
        return "BestEffort"
    if all(r.get("limits") and r.get("limits") == r.get("requests") for r in res):
        return "Guaranteed"
    return "Burstable"


class Namespace:
    """Builds one namespace's objects, workload by workload."""

    def __init__(self, gen: Gen, name: str, team: str) -> None:
        self.g, self.name, self.team = gen, name, team
        self.objects: list[dict[str, Any]] = []
        self.workloads = 0
        self.service_accounts = ["default"]

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects.append(obj)
        return obj

    def base(self) -> None:
        g, ns = self.g, self.name
        labels = {"kubernetes.io/metadata.name": ns, "team": self.team}
        roll = g.rng.random()
        if roll < 0.3:
            labels["pod-security.kubernetes.io/enforce"] = "restricted"
        elif roll < 0.5:
            labels["pod-security.kubernetes.io/enforce"] = "baseline"
            labels["pod-security.kubernetes.io/warn"] = "restricted"
        self.add({"apiVersion": "v1", "kind": "Namespace", "metadata": g.meta(ns, None, labels),
                  "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
        self.add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": g.meta(
            "kube-root-ca.crt", ns, annotations={"kubernetes.io/description": (
                "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
                "endpoints such as the internal service (kubernetes.default.svc). No assumptions about "
                "the contents of the CA bundle should be made.")}),
            "data": {"ca.crt": _FAKE_CA}})
        self.add({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": g.meta("default", ns)})
        if g.rng.random() < 0.6:
            self.add(_netpol(g, ns, "default-deny", {}, ["Ingress", "Egress"] if g.rng.random() < 0.5 else ["Ingress"]))
        if g.rng.random() < 0.4:
            self.add({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": g.meta(f"{self.team}-quota", ns),
                      "spec": {"hard": {"limits.memory": "64Gi", "pods": "200", "requests.cpu": "32"}},
                      "status": {"hard": {"limits.memory": "64Gi", "pods": "200", "requests.cpu": "32"},
                                 "used": {"limits.memory": "12Gi", "pods": "41", "requests.cpu": "7"}}})
        self.add({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                  "metadata": g.meta(f"{self.team}-deployer", ns),
                  "rules": [{"apiGroups": ["apps"], "resources": ["deployments", "statefulsets"],
                             "verbs": ["get", "list", "watch", "update", "patch"]},
                            {"apiGroups": [""], "resources": ["configmaps", "secrets"] if g.rng.random() < 0.5
                             else ["configmaps"], "verbs": ["get", "list"] if g.rng.random() < 0.7 else ["*"]}]})
        self.add({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                  "metadata": g.meta(f"{self.team}-deployer", ns),
                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{self.team}-deployer"},
                  "subjects": [{"kind": "Group", "name": f"team-{self.team}", "apiGroup": "rbac.authorization.k8s.io"},
                               {"kind": "ServiceAccount", "name": "ci-deployer", "namespace": "ci"}]})

    def workload(self, index: int) -> None:
        """One top-level workload with what it owns, and the Service/ConfigMap/SA around it."""
        g = self.g
        part = g.rng.choice(PARTS)
        name = f"{self.team}-{part}-{index}"
        app = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": self.team}
        self.workloads += 1
        sa = "default"
        if g.rng.random() < 0.3:
            sa = name
            self.add({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": g.meta(name, self.name, app)})
        roll = g.rng.random()
        if roll < 0.62:
            self.deployment(name, part, app, sa)
        elif roll < 0.70:
            self.statefulset(name, part, app, sa)
        elif roll < 0.83:
            self.cronjob(name, part, app, sa)
        elif roll < 0.87:
            job = self.job(name, part, app, sa, None)
            job["status"]["succeeded"] = 1
        else:
            spec = g.pod_spec(self.team, part, sa)
            self.add(g.pod(name, self.name, g.template(app, spec), None, {}))
        if roll < 0.70 and g.rng.random() < 0.6:
            self.service(name, app)
        if g.rng.random() < 0.25:
            self.add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": g.meta(f"{self.team}-{part}-config", self.name, app),
                      "data": {"config.yaml": f"listen: :8080\nlogLevel: info\nupstream: {self.team}-db:5432\n"
                                              f"timeoutSeconds: {g.rng.randint(1, 60)}\n"}})

    def deployment(self, name: str, part: str, labels: dict[str, str], sa: str) -> None:
        g = self.g
        replicas = g.rng.choice((1, 1, 1, 2))
        template = g.template(labels, g.pod_spec(self.team, part, sa))
        revision = g.rng.randint(1, 12)
        annotations = {"deployment.kubernetes.io/revision": str(revision)}
        if g.rng.random() < 0.3:
            applied = {"apiVersion": "apps/v1", "kind": "Deployment",
                       "metadata": {"name": name, "namespace": self.name, "labels": labels},
                       "spec": {"replicas": replicas, "selector": {"matchLabels": labels}}}
            annotations["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(applied) + "\n"
        dep = self.add({"apiVersion": "apps/v1", "kind": "Deployment",
                        "metadata": g.meta(name, self.name, labels, annotations, generation=revision),
                        "spec": {"progressDeadlineSeconds": 600, "replicas": replicas, "revisionHistoryLimit": 10,
                                 "selector": {"matchLabels": labels},
                                 "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                                              "type": "RollingUpdate"},
                                 "template": template},
                        "status": {"availableReplicas": replicas, "conditions": [
                            {"lastTransitionTime": g.stamp(), "lastUpdateTime": g.stamp(),
                             "message": "Deployment has minimum availability.", "reason": "MinimumReplicasAvailable",
                             "status": "True", "type": "Available"},
                            {"lastTransitionTime": g.stamp(), "lastUpdateTime": g.stamp(),
                             "message": f'ReplicaSet "{name}-x" has successfully progressed.',
                             "reason": "NewReplicaSetAvailable", "status": "True", "type": "Progressing"}],
                            "observedGeneration": revision, "readyReplicas": replicas, "replicas": replicas,
                            "updatedReplicas": replicas}})
        if revision > 1 and g.rng.random() < 0.15:  # an old revision, scaled down
            old = copy.deepcopy(template)
            old["spec"]["containers"][0]["image"] = g.image(self.team, part)
            self.replicaset(dep, old, 0, revision - 1)
        self.replicaset(dep, template, replicas, revision)

    def replicaset(self, dep: dict[str, Any], template: dict[str, Any], replicas: int, revision: int) -> None:
        g = self.g
        hash_ = g.suffix(10)
        name = f"{dep['metadata']['name']}-{hash_}"
        labels = {**template["metadata"]["labels"], "pod-template-hash": hash_}
        rs_template = copy.deepcopy(template)
        rs_template["metadata"]["labels"] = labels
        meta = g.meta(name, self.name, labels, {"deployment.kubernetes.io/desired-replicas": str(replicas),
                                                 "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                                                 "deployment.kubernetes.io/revision": str(revision)},
                      generation=1)
        meta["ownerReferences"] = [_owner_ref(dep)]
        rs = self.add({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta,
                       "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": rs_template},
                       "status": {"availableReplicas": replicas, "fullyLabeledReplicas": replicas,
                                  "observedGeneration": 1, "readyReplicas": replicas, "replicas": replicas}})
        for _ in range(replicas):
            self.add(g.pod(f"{name}-{g.suffix()}", self.name, rs_template, rs, {}))

    def statefulset(self, name: str, part: str, labels: dict[str, str], sa: str) -> None:
        g = self.g
        replicas = g.rng.choice((1, 2, 3))
        template = g.template(labels, g.pod_spec(self.team, part, sa))
        revision = f"{name}-{g.suffix(10)}"
        sts = self.add({"apiVersion": "apps/v1", "kind": "StatefulSet",
                        "metadata": g.meta(name, self.name, labels, generation=1),
                        "spec": {"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
                                 "podManagementPolicy": "OrderedReady", "replicas": replicas,
                                 "revisionHistoryLimit": 10, "selector": {"matchLabels": labels},
                                 "serviceName": name, "template": template,
                                 "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
                                 "volumeClaimTemplates": [{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                                           "metadata": {"creationTimestamp": None, "name": "data"},
                                                           "spec": {"accessModes": ["ReadWriteOnce"],
                                                                    "resources": {"requests": {"storage": "10Gi"}},
                                                                    "storageClassName": "gp3", "volumeMode": "Filesystem"},
                                                           "status": {"phase": "Pending"}}]},
                        "status": {"availableReplicas": replicas, "collisionCount": 0, "currentReplicas": replicas,
                                   "currentRevision": revision, "observedGeneration": 1, "readyReplicas": replicas,
                                   "replicas": replicas, "updateRevision": revision, "updatedReplicas": replicas}})
        for i in range(replicas):
            self.add(g.pod(f"{name}-{i}", self.name, template, sts,
                           {"controller-revision-hash": revision, "apps.kubernetes.io/pod-index": str(i),
                            "statefulset.kubernetes.io/pod-name": f"{name}-{i}"}))

    def cronjob(self, name: str, part: str, labels: dict[str, str], sa: str) -> None:
        g = self.g
        template = g.template(labels, g.pod_spec(self.team, part, sa, restart="OnFailure"))
        cj = self.add({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": g.meta(name, self.name, labels, generation=1),
                       "spec": {"concurrencyPolicy": "Forbid", "failedJobsHistoryLimit": 1,
                                "jobTemplate": {"metadata": {"creationTimestamp": None},
                                                "spec": {"backoffLimit": 6, "template": template}},
                                "schedule": g.rng.choice(("*/15 * * * *", "0 * * * *", "30 2 * * *", "0 4 * * 1")),
                                "successfulJobsHistoryLimit": 3, "suspend": False},
                       "status": {"lastScheduleTime": g.stamp(), "lastSuccessfulTime": g.stamp()}})
        job = self.job(f"{name}-{g.rng.randint(28_000_000, 29_000_000)}", part, labels, sa, cj, template)
        job["status"]["succeeded"] = 1

    def job(self, name: str, part: str, labels: dict[str, str], sa: str, owner: dict[str, Any] | None,
            template: dict[str, Any] | None = None) -> dict[str, Any]:
        g = self.g
        if template is None:
            template = g.template(labels, g.pod_spec(self.team, part, sa, restart="Never"))
        job_uid_labels = {"batch.kubernetes.io/job-name": name, "job-name": name}
        job_template = copy.deepcopy(template)
        job_template["metadata"]["labels"] = {**template["metadata"]["labels"], **job_uid_labels}
        meta = g.meta(name, self.name, job_template["metadata"]["labels"], generation=1)
        if owner is not None:
            meta["ownerReferences"] = [_owner_ref(owner)]
        job = self.add({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
                        "spec": {"backoffLimit": 6, "completionMode": "NonIndexed", "completions": 1,
                                 "manualSelector": False, "parallelism": 1, "podReplacementPolicy": "TerminatingOrFailed",
                                 "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": meta["uid"]}},
                                 "suspend": False, "template": job_template},
                        "status": {"completionTime": g.stamp(), "conditions": [
                            {"lastProbeTime": g.stamp(), "lastTransitionTime": g.stamp(), "status": "True", "type": "Complete"}],
                            "ready": 0, "startTime": g.stamp(), "terminating": 0, "uncountedTerminatedPods": {}}})
        self.add(g.pod(f"{name}-{g.suffix()}", self.name, job_template, job,
                       {"batch.kubernetes.io/controller-uid": meta["uid"]}, phase="Succeeded"))
        return job

    def daemonset(self, name: str, part: str, nodes: list[str]) -> None:
        g = self.g
        labels = {"app.kubernetes.io/name": name}
        template = g.template(labels, g.pod_spec(self.team, part, name))
        self.add({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": g.meta(name, self.name, labels)})
        ds = self.add({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": g.meta(name, self.name, labels, generation=1),
                       "spec": {"revisionHistoryLimit": 10, "selector": {"matchLabels": labels}, "template": template,
                                "updateStrategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
                                                   "type": "RollingUpdate"}},
                       "status": {"currentNumberScheduled": len(nodes), "desiredNumberScheduled": len(nodes),
                                  "numberAvailable": len(nodes), "numberMisscheduled": 0, "numberReady": len(nodes),
                                  "observedGeneration": 1, "updatedNumberScheduled": len(nodes)}})
        self.workloads += 1
        revision = g.suffix(10)
        for node in nodes:
            self.add(g.pod(f"{name}-{g.suffix()}", self.name, template, ds, {"controller-revision-hash": revision},
                           node=node))

    def service(self, name: str, selector: dict[str, str]) -> None:
        g = self.g
        kind = g.rng.choices(("ClusterIP", "NodePort", "LoadBalancer"), (0.85, 0.08, 0.07))[0]
        ip = f"172.20.{g.rng.randint(0, 255)}.{g.rng.randint(1, 254)}"
        port: dict[str, Any] = {"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}
        if kind != "ClusterIP":
            port["nodePort"] = g.rng.randint(30000, 32767)
        spec: dict[str, Any] = {"clusterIP": ip, "clusterIPs": [ip], "internalTrafficPolicy": "Cluster",
                                "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "ports": [port],
                                "selector": selector, "sessionAffinity": "None", "type": kind}
        status: dict[str, Any] = {"loadBalancer": {}}
        if kind == "LoadBalancer":
            spec["externalTrafficPolicy"] = "Cluster"
            status = {"loadBalancer": {"ingress": [{"hostname": f"a{g.hexid(31)}.elb.eu-west-1.amazonaws.com"}]}}
        self.add({"apiVersion": "v1", "kind": "Service", "metadata": g.meta(name, self.name, selector),
                  "spec": spec, "status": status})


def _netpol(g: Gen, ns: str, name: str, selector: dict[str, Any], types: list[str]) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": g.meta(name, ns, generation=1),
            "spec": {"podSelector": selector, "policyTypes": types}}


_FAKE_CA = "-----BEGIN CERTIFICATE-----\n" + "\n".join(
    "".join(random.Random(i).choices(string.ascii_letters + string.digits + "+/", k=64)) for i in range(17)
) + "\n-----END CERTIFICATE-----\n"


def build(workloads: int, seed: int = SEED, shape: str = "bench") -> tuple[dict[str, list[dict[str, Any]]], dict[str, int]]:
    """All objects by output file name, and counts (workloads, objects)."""
    g = Gen(seed, heavy=shape == "heavy")
    files: dict[str, list[dict[str, Any]]] = {}
    nodes = g.nodes[: max(3, min(len(g.nodes), workloads * NODE_COUNT_PER_1K // 1000))]
    # kube-system: control plane static pods, DaemonSets on every node, cluster add-ons.
    system = Namespace(g, "kube-system", "platform")
    system.base()
    for ds in ("kube-proxy", "aws-node", "ebs-csi-node"):
        system.daemonset(ds, "agent", nodes)
    for i in range(3):
        system.workload(i)
    files["kube-system"] = system.objects
    daemonsets = max(1, workloads // 1000)
    remaining = workloads - system.workloads
    ns_count = max(1, round(remaining / WORKLOADS_PER_NAMESPACE))
    for n in range(ns_count):
        team = TEAMS[n % len(TEAMS)]
        ns = Namespace(g, f"{team}-{n // len(TEAMS)}" if n >= len(TEAMS) else team, team)
        ns.base()
        share = remaining // ns_count + (1 if n < remaining % ns_count else 0)
        if n < daemonsets:
            ns.daemonset(f"{team}-node-agent", "agent", nodes)
        while ns.workloads < share:
            ns.workload(ns.workloads)
        files[ns.name] = ns.objects
    cluster: list[dict[str, Any]] = []
    for ns_name in ("kube-public", "kube-node-lease", "default"):
        cluster.append({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": g.meta(ns_name, None, {"kubernetes.io/metadata.name": ns_name}),
                        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
    for i in range(max(20, workloads // 50)):
        verbs = g.rng.choice((["get", "list", "watch"], ["*"], ["get", "list", "watch", "create", "update", "delete"]))
        resources = g.rng.choice((["pods", "services"], ["secrets"], ["*"], ["nodes", "nodes/proxy"], ["deployments"]))
        name = f"{g.rng.choice(TEAMS)}-{g.rng.choice(('reader', 'operator', 'admin', 'controller'))}-{i}"
        cluster.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                        "metadata": g.meta(name, None), "rules": [{"apiGroups": ["", "apps"], "resources": resources,
                                                                   "verbs": verbs}]})
        cluster.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                        "metadata": g.meta(name, None),
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                        "subjects": [{"kind": "ServiceAccount", "name": "default",
                                      "namespace": g.rng.choice(list(files))}]})
    files["cluster-scoped"] = cluster
    total_workloads = system.workloads + remaining
    return files, {"workloads": total_workloads, "objects": sum(len(v) for v in files.values())}


def dump_list(objects: list[dict[str, Any]]) -> str:
    """A `kind: List` exactly as `kubectl get -o yaml` prints one (keys sorted, no YAML aliases:
    the JSON round trip unshares the dicts the generator reuses, which PyYAML would alias)."""
    objects = json.loads(json.dumps(objects))
    doc = {"apiVersion": "v1", "items": objects, "kind": "List", "metadata": {"resourceVersion": ""}}
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=True, default_flow_style=False, width=4096)


def fingerprint() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def ensure(workloads: int, seed: int = SEED, shape: str = "bench") -> Path:
    """The directory holding the N-workload cluster, generating it if missing or stale."""
    target = CACHE / (f"cluster-{workloads}-{seed}" + ("" if shape == "bench" else f"-{shape}"))
    stamp = target / "generated.json"
    if stamp.is_file() and json.loads(stamp.read_text()).get("generator") == fingerprint():
        return target
    if target.exists():
        shutil.rmtree(target)
    files, counts = build(workloads, seed, shape)
    manifests = target / "manifests"
    manifests.mkdir(parents=True)
    size = 0
    for name, objects in files.items():
        text = dump_list(objects)
        (manifests / f"{name}.yaml").write_text(text)
        size += len(text.encode())
    stamp.write_text(json.dumps({"generator": fingerprint(), "seed": seed, "shape": shape, **counts, "bytes": size}))
    return target


def describe(target: Path) -> dict[str, Any]:
    return json.loads((target / "generated.json").read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", type=int, nargs="+", help="cluster sizes in top-level workloads")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--shape", choices=SHAPES, default="bench",
                        help="bench: the default mix; heavy: about 4x the findings per workload")
    args = parser.parse_args(argv)
    for n in args.workloads:
        target = ensure(n, args.seed, args.shape)
        info = describe(target)
        print(f"{target / 'manifests'}: {info['workloads']} workloads, {info['objects']} objects, "
              f"{info['bytes'] / 1e6:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
