"""Attack paths, exposure and isolation on real manifests; cuts are proven with the real kubectl.

A cut is correct only if applying it (`kubectl patch --local`, or adding the NetworkPolicy it
proposes) removes the path and adds none.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kspm_tui.graph.analysis import Analysis
from kspm_tui.graph.paths import AttackPath
from kspm_tui.snapshot import Snapshot
from kspm_tui.sources.files import read_paths, read_text
from tests.kubectl import KUBECTL

FIXTURE = Path(__file__).parent / "fixtures" / "rbac" / "cluster.yaml"


def analyse_text(text: str) -> Analysis:
    collected = read_text(text.encode(), "test.yaml")
    assert not collected.errors, collected.errors
    return Analysis(Snapshot(collected.objects))


def docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def dump(objects: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(objects)


def kubectl_patch_local(obj: dict[str, Any], patch: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    source = tmp_path / "obj.yaml"
    source.write_text(yaml.safe_dump(obj))
    out = subprocess.run([str(KUBECTL), "patch", "--local", "-f", str(source), "--type=strategic",
                          "-p", json.dumps(patch), "-o", "json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def summary(paths: list[AttackPath]) -> list[tuple[str, str]]:
    return [(str(p.source), p.target) for p in paths]


def test_fixture_paths_ranked_and_decoys_absent() -> None:
    analysis = Analysis(Snapshot(read_paths([str(FIXTURE)]).objects))
    exposed = analysis.attack_paths()
    assert summary(exposed) == [("Deployment/ci/jenkins", "cluster-admin"),
                                ("Deployment/payments/payments-api", "cloud")]
    jenkins = exposed[0]
    assert jenkins.exposed and not jenkins.ingress_isolated
    assert [e.relation for e in jenkins.edges] == ["routes to", "reaches", "mounts token of", "bound by",
                                                   "grants", "allows"]
    assert jenkins.edges[3].object and jenkins.edges[3].object.name == "jenkins-admin"
    # jenkins uses its grants: the cut that keeps it running is preferred over taking its token
    assert jenkins.cut and jenkins.cut.action == "narrow-binding" and jenkins.cut.keeps_workload
    assert [c.action for c in jenkins.other_cuts] == ["automount", "network-policy"]
    everything = summary(analysis.attack_paths(internal=True))
    assert not any("ops-console" in src for src, _ in everything)  # token not mounted
    assert ("Deployment/reports/report-builder", "secrets") in everything  # isolated: internal only
    assert not any(p.exposed for p in analysis.attack_paths(internal=True) if "report-builder" in str(p.source))


def test_automount_cut_applied_with_kubectl_removes_the_path(tmp_path: Path) -> None:
    objects = docs(FIXTURE.read_text())
    analysis = analyse_text(dump(objects))
    jenkins = analysis.attack_paths(target="cluster-admin")[0]
    cut = next(c for c in jenkins.other_cuts if c.action == "automount")
    assert cut.patch and cut.kubectl and not cut.keeps_workload
    assert cut.kubectl.startswith("kubectl patch -n ci --type=strategic -p ")
    assert cut.kubectl.endswith(" -- deployment jenkins")
    index = next(i for i, o in enumerate(objects) if o["kind"] == "Deployment" and o["metadata"]["name"] == "jenkins")
    objects[index] = kubectl_patch_local(objects[index], cut.patch, tmp_path)
    after = analyse_text(dump(objects))
    assert summary(after.attack_paths(internal=True)) == [
        p for p in summary(analysis.attack_paths(internal=True)) if "jenkins" not in p[0]]


LB_APP = """
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
  namespace: shop
  annotations: {iam.gke.io/gcp-service-account: web@proj.iam.gserviceaccount.com}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec:
      serviceAccountName: web
      containers: [{name: web, image: "nginx:1.27", securityContext: {privileged: true}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}
"""


def test_network_policy_cut_isolates_a_load_balanced_pod() -> None:
    analysis = analyse_text(LB_APP)
    paths = {p.target: p for p in analysis.attack_paths()}
    assert set(paths) == {"cloud", "node"}
    cloud = paths["cloud"]
    assert cloud.cut and cloud.cut.action == "network-policy"
    manifest = cloud.cut.kubectl.split("<<'EOF'\n", 1)[1].rsplit("EOF", 1)[0]  # type: ignore[union-attr]
    after = analyse_text(LB_APP + "---\n" + manifest)
    assert after.attack_paths() == []
    assert {p.target for p in after.attack_paths(internal=True)} == {"cloud", "node"}


def test_policy_admitting_the_internet_does_not_isolate() -> None:
    open_policy = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: open, namespace: shop}
spec:
  podSelector: {matchLabels: {tier: front}}
  ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}]}]
"""
    analysis = analyse_text(LB_APP + open_policy)
    paths = analysis.attack_paths()
    assert {p.target for p in paths} == {"cloud", "node"}
    assert all(p.ingress_isolated and p.exposed for p in paths)
    facts = analysis.isolation
    assert [str(r) for iso in facts.values() for r in iso.open_ingress] == ["NetworkPolicy/shop/open"]


def test_node_cut_patch_hardens_the_pod(tmp_path: Path) -> None:
    # behind an Ingress the pod is meant to be reachable, so the cut must be on the pod itself
    text = LB_APP.replace("type: LoadBalancer, ", "") + """---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec: {defaultBackend: {service: {name: web, port: {number: 80}}}}
"""
    objects = docs(text)
    node = next(p for p in analyse_text(text).attack_paths() if p.target == "node")
    assert node.cut and node.cut.action == "harden-pod" and node.cut.patch
    hardened = kubectl_patch_local(objects[1], node.cut.patch, tmp_path)
    after = analyse_text(dump([objects[0], hardened, *objects[2:]]))
    assert {p.target for p in after.attack_paths()} == {"cloud"}


def test_httproute_is_exposure_host_network_needs_public_nodes() -> None:
    text = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: gw}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: "api:1"}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: gw}
spec: {selector: {app: api}, ports: [{port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: gw}
spec:
  hostnames: [api.example.com]
  rules: [{backendRefs: [{name: api, port: 80}]}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ops}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {hostNetwork: true, containers: [{name: a, image: "agent:1"}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: internal, namespace: gw}
spec:
  selector: {matchLabels: {app: internal}}
  template:
    metadata: {labels: {app: internal}}
    spec: {containers: [{name: i, image: "i:1"}]}
"""
    exposure = analyse_text(text).exposure
    routes = {str(ref): [r.text() for r in rs] for ref, rs in exposure.items()}
    assert set(routes) == {"Deployment/gw/api"}  # no Node read: host network is not the internet
    assert "HTTPRoute gw/api (hosts api.example.com)" in routes["Deployment/gw/api"][0]


ADMIN_BINDINGS = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: bot, namespace: ci}
spec:
  selector: {matchLabels: {app: bot}}
  template:
    metadata: {labels: {app: bot}}
    spec:
      serviceAccountName: bot
      automountServiceAccountToken: %(automount)s
      containers: [{name: bot, image: "bot:1"}]
      volumes: %(volumes)s
---
apiVersion: v1
kind: Service
metadata: {name: bot, namespace: ci}
spec: {type: NodePort, selector: {app: bot}, ports: [{port: 80}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bot-1}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: bot, namespace: ci}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bot-2}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: "system:serviceaccounts:ci"}]
"""
PROJECTED = '[{name: t, projected: {sources: [{serviceAccountToken: {path: token%s}}]}}]'


@pytest.mark.parametrize("automount, volumes, expected", [
    ("true", "[]", "automount"),  # two bindings: dropping one would not cut, the mount does
    ("false", PROJECTED % "", None),  # a projected API token ignores automount: isolate the pod instead
    ("false", PROJECTED % ", audience: vault", "no path"),  # a token for another audience is not an API token
    ("false", "[]", "no path"),
])
def test_cheapest_cut_really_disconnects(automount: str, volumes: str, expected: str | None) -> None:
    analysis = analyse_text(ADMIN_BINDINGS % {"automount": automount, "volumes": volumes})
    paths = analysis.attack_paths(target="cluster-admin")
    if expected == "no path":
        assert paths == []
        return
    assert len(paths) == 1
    path = paths[0]
    assert path.cut is not None
    if expected is None:
        assert path.cut.action == "network-policy"  # the NodePort route is still cuttable
    else:
        assert path.cut.action == expected


API = """
apiVersion: v1
kind: Namespace
metadata: {name: ingress-nginx}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: ingress-nginx}}
  template:
    metadata: {labels: {app.kubernetes.io/name: ingress-nginx}}
    spec: {containers: [{name: c, image: "controller:1"}]}
---
apiVersion: v1
kind: Service
metadata: {name: ingress-nginx-controller, namespace: ingress-nginx%(lb_annotations)s}
spec: {type: LoadBalancer, selector: {app.kubernetes.io/name: ingress-nginx}, ports: [{port: 443}]}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: api
  namespace: pay
  annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::123456789012:role/api"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: pay}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {serviceAccountName: api, containers: [{name: api, image: "api:1"}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: pay}
spec: {selector: {app: api}, ports: [{port: 8080}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: api, namespace: pay}
spec: {defaultBackend: {service: {name: api, port: {number: 8080}}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: pay}
spec: {podSelector: {}, policyTypes: [Ingress]}
%(allow)s"""
ALLOW_CONTROLLER = """---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-ingress-nginx, namespace: pay}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}],
             ports: [{port: 8080}]}]
"""
ALLOW_MONITORING = ALLOW_CONTROLLER.replace("ingress-nginx}", "monitoring}")


@pytest.mark.parametrize("allow, lb_annotations, exposed", [
    (ALLOW_CONTROLLER, "", True),  # default-deny, but the controller is admitted: Ingress traffic gets in
    (ALLOW_MONITORING, "", False),  # isolated from the controller: cut
    ("", "", False),  # default-deny alone
    (ALLOW_CONTROLLER, ", annotations: {service.beta.kubernetes.io/aws-load-balancer-scheme: internal}", False),
])
def test_ingress_reachability_follows_the_controller(allow: str, lb_annotations: str, exposed: bool) -> None:
    analysis = analyse_text(API % {"allow": allow, "lb_annotations": lb_annotations})
    paths = analysis.attack_paths()
    assert [(str(p.source), p.target) for p in paths] == ([("Deployment/pay/api", "cloud")] if exposed else [])
    if exposed:
        assert "admits the ingress controller Deployment/ingress-nginx/ingress-nginx-controller" in \
            paths[0].edges[-2].evidence
        assert paths[0].ingress_isolated


NODES = """
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 10.0.0.1}%s]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ops}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {hostNetwork: true, containers: [{name: a, image: "agent:1", securityContext: {privileged: true}}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: ops}
spec:
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec: {containers: [{name: s, image: "shop:1"}]}
---
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: ops}
spec: {type: NodePort, selector: {app: shop}, ports: [{port: 80, nodePort: 30080}]}
"""


def test_node_addresses_decide_host_and_node_port_exposure() -> None:
    private = analyse_text(NODES % "")
    assert private.exposure == {}
    public = analyse_text(NODES % ", {type: ExternalIP, address: 203.0.113.7}")
    assert {str(ref): [r.entry for r in routes] for ref, routes in public.exposure.items()} == {
        "DaemonSet/ops/agent": ["host-network"], "Deployment/ops/shop": ["service"]}
    assert [(str(p.source), p.target) for p in public.attack_paths()] == [("DaemonSet/ops/agent", "node")]


def test_narrowed_binding_applied_with_kubectl_removes_the_path_and_keeps_the_namespace_grant(tmp_path: Path) -> None:
    """The preferred cut, run as printed (its `kubectl create rolebinding` with --dry-run=client),
    removes the path to cluster-admin while the service account keeps its role in its namespace."""
    objects = docs(FIXTURE.read_text())
    jenkins = analyse_text(dump(objects)).attack_paths(target="cluster-admin")[0]
    cut = jenkins.cut
    assert cut and cut.action == "narrow-binding" and cut.kubectl
    create, _, delete = cut.kubectl.partition(" && ")
    args = shlex.split(create)
    proc = subprocess.run([str(KUBECTL), *args[1:], "--dry-run=client", "-o", "json"], capture_output=True,
                          text=True, check=False, timeout=120, env={"PATH": "", "KUBECONFIG": str(tmp_path / "none")})
    assert proc.returncode == 0, proc.stderr
    binding = json.loads(proc.stdout)
    assert binding["kind"] == "RoleBinding" and binding["metadata"]["namespace"] == "ci"
    dropped = shlex.split(delete)[-1]
    objects = [o for o in objects if not (o["kind"] == "ClusterRoleBinding" and o["metadata"]["name"] == dropped)]
    after = analyse_text(dump([*objects, binding]))
    assert not any("jenkins" in str(p.source) for p in after.attack_paths(target="cluster-admin"))
