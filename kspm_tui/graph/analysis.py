"""The graph facts of one snapshot, built lazily: RBAC, risks, exposure, isolation, paths.

One `Analysis` per scan is shared by the engine (subject/path scopes, the `workload` and
`binding` variables), the `rbac` CLI and the TUI, so nothing is built twice and nothing is
built at all when no rule or view asks for it.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from kspm_tui.graph.exposure import Controller, Route, reachable
from kspm_tui.graph.facts import namespace_facts
from kspm_tui.graph.grants import RoleGrants
from kspm_tui.graph.identity import NO_CLOUD_IDENTITY, cloud_identity, token_mount
from kspm_tui.graph.network import Isolation
from kspm_tui.graph.paths import (
    AttackPath,
    PathGraph,
    Reachability,
    attack_paths,
    node_escape,
    workload_paths,
)
from kspm_tui.graph.rbac import RbacGraph, Ref, Subject, build_rbac
from kspm_tui.graph.risks import RiskIndex, privileged_namespaces
from kspm_tui.snapshot import DEFAULT_SYSTEM_NAMESPACES, Snapshot, Workload, namespace_of

# ClusterRoles the API server creates and reconciles itself (besides the system: ones).
BOOTSTRAP_CLUSTER_ROLES = frozenset({"cluster-admin", "admin", "edit", "view"})


class Analysis:
    def __init__(self, snapshot: Snapshot, *, system_namespaces: tuple[str, ...] = DEFAULT_SYSTEM_NAMESPACES,
                 namespace_facts_: dict[str, dict[str, Any]] | None = None, context: str | None = None,
                 is_cluster: bool | None = None, reach: Reachability | None = None) -> None:
        self.snapshot = snapshot
        if reach is not None:  # computed already (a watch batch): the cached property's value
            self.__dict__["reach"] = reach
        self.system_namespaces = system_namespaces
        self._ns_facts = namespace_facts_
        self.context = context
        self.is_cluster = (snapshot.get("Namespace", None, "kube-system") is not None
                           if is_cluster is None else is_cluster)

    @cached_property
    def namespace_facts(self) -> dict[str, dict[str, Any]]:
        return self._ns_facts if self._ns_facts is not None else namespace_facts(self.snapshot, self.system_namespaces)

    @cached_property
    def rbac(self) -> RbacGraph:
        return build_rbac(self.snapshot)

    @cached_property
    def risks(self) -> RiskIndex:
        return RiskIndex(self.rbac, privileged_namespaces(self.namespace_facts, self.system_namespaces))

    @cached_property
    def role_grants(self) -> RoleGrants:
        return RoleGrants(self.rbac)

    def role_facts(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The `role` variable of object rules on Roles/ClusterRoles (documented in rules/README.md)."""
        ref = Ref(obj["kind"], namespace_of(obj) if obj["kind"] == "Role" else None, obj["metadata"]["name"])
        return self.role_grants.facts(obj, ref)

    @cached_property
    def reach(self) -> Reachability:
        return Reachability.of(self.snapshot)

    @property
    def exposure(self) -> dict[Ref, list[Route]]:
        return self.reach.exposure

    @property
    def isolation(self) -> dict[Ref, Isolation]:
        return self.reach.isolation

    @property
    def controllers(self) -> list[Controller]:
        return self.reach.controllers

    @cached_property
    def path_graph(self) -> PathGraph:
        """Paths from the internet: what path-scope rules and `rbac paths` report."""
        return attack_paths(self.snapshot, self.rbac, self.risks, context=self.context, reach=self.reach)

    @cached_property
    def internal_path_graph(self) -> PathGraph:
        """Also paths from workloads the internet does not reach (a compromised pod)."""
        return attack_paths(self.snapshot, self.rbac, self.risks, internal=True, context=self.context,
                            reach=self.reach)

    def workload_paths(self, workload: Workload) -> list[AttackPath]:
        """One workload's paths from the internet (what a watch recomputes for a changed workload)."""
        return workload_paths(workload, self.snapshot, self.rbac, self.risks, self.reach,
                              context=self.context)

    def attack_paths(self, *, internal: bool = False, target: str | None = None) -> list[AttackPath]:
        """Ranked paths; by default only those starting from the internet."""
        graph = self.internal_path_graph if internal else self.path_graph
        return [p for p in graph.paths if target is None or p.target == target]

    def subject_facts(self, subject: Subject) -> dict[str, Any]:
        return self.risks.facts(subject, self.system_namespaces)

    def workload_facts(self, workload: Workload) -> dict[str, Any]:
        """The `workload` variable of container/pod rules (documented in rules/README.md)."""
        ref = Ref(workload.kind, workload.namespace, workload.name)
        routes = self.exposure.get(ref, [])
        iso = self.isolation.get(ref) or Isolation()
        mount = token_mount(self.snapshot, workload)
        sa = mount.service_account
        risk = self.risks.risk(sa)
        identity = cloud_identity(self.snapshot, workload)
        return {
            "exposed": bool(routes),
            "exposedVia": [r.text() for r in routes],
            "reachableFromInternet": any(reachable(r, iso, self.controllers)[0] for r in routes),
            **iso.facts(),
            "serviceAccount": {
                "name": sa.name, "namespace": sa.namespace or "",
                "exists": sa in self.rbac.service_accounts,
                "tokenMounted": mount.mounted,
                "clusterAdmin": bool(risk.cluster_admin), "canEscalate": risk.can_escalate,
                "canReadSecrets": bool(risk.read_secrets), "canExec": bool(risk.exec_),
            },
            "cloudIdentity": identity.facts() if identity else dict(NO_CLOUD_IDENTITY),
            "nodeAccess": node_escape(workload),
        }

    def binding_facts(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The `binding` variable of object rules on RoleBindings/ClusterRoleBindings.

        Only a whole-cluster snapshot can say a role or ServiceAccount is missing; in a folder
        of manifests both lists stay empty rather than guess.
        """
        namespace = namespace_of(obj)
        role_ref = obj.get("roleRef") or {}
        role_kind = role_ref.get("kind", "")
        role = Ref(role_kind, namespace if role_kind == "Role" else None, str(role_ref.get("name", "")))
        bootstrap = role_kind == "ClusterRole" and (role.name in BOOTSTRAP_CLUSTER_ROLES
                                                    or role.name.startswith("system:"))
        # The API server re-creates bootstrap roles at every start: absent from a snapshot
        # means "not collected", never "dangling".
        missing_role = self.is_cluster and not bootstrap and self.rbac.role(role) is None
        missing_sas = []
        subjects = [s for s in obj.get("subjects") or () if isinstance(s, dict)]
        if self.is_cluster:
            for raw in subjects:
                if raw.get("kind") != "ServiceAccount":
                    continue
                sa = Subject("ServiceAccount", str(raw.get("name", "")), raw.get("namespace") or namespace)
                implicit = sa.name == "default" and sa.namespace in self.rbac.namespaces
                if sa not in self.rbac.service_accounts and not implicit:
                    missing_sas.append(str(sa))
        return {"role": str(role), "roleExists": not missing_role, "subjects": len(subjects),
                "missingServiceAccounts": missing_sas}
