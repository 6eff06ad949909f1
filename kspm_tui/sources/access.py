"""Which of the permissions a live scan needs the current identity has, and the role to grant.

Asks the API server with SelfSubjectAccessReviews: a review is evaluated and returned, never
stored, so this is the one POST kspm-tui makes, and only from `kspm-tui doctor`.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from pydantic import BaseModel

from kspm_tui.sources.apiclient import ApiReader
from kspm_tui.sources.kubeconfig import Connection, LiveError
from kspm_tui.sources.live import WANTED, Discovery, Resource
from kspm_tui.yamlio import dump_yaml, load_json

VERBS = ("list", "watch")
REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


class Permission(BaseModel):
    kind: str
    group: str
    resource: str
    verb: str
    allowed: bool


def _group(resource: Resource) -> str:
    return resource.api_version.rpartition("/")[0]


def review(connection: Connection, resource: Resource, verb: str) -> Permission:
    """One SelfSubjectAccessReview: may I `verb` `resource` in every namespace (or in `-n NS`)?"""
    attributes = {"verb": verb, "group": _group(resource), "resource": resource.plural}
    if resource.namespace and resource.namespaced:
        attributes["namespace"] = resource.namespace
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes}}
    client = connection.client
    method, url, headers, body, _ = client.param_serialize(
        "POST", REVIEWS, header_params={"Content-Type": "application/json", "Accept": "application/json"},
        body=body, auth_settings=["BearerToken"])
    response = client.call_api(method, url, header_params=headers, body=body, _request_timeout=connection.timeout)
    data = response.read()
    if not 200 <= response.status < 300:
        raise LiveError(f"context {connection.context.name!r}: the API server refused a SelfSubjectAccessReview "
                        f"({response.status}): cannot check permissions")
    allowed = bool((load_json(data).get("status") or {}).get("allowed"))
    return Permission(kind=resource.kind, group=_group(resource), resource=resource.plural, verb=verb, allowed=allowed)


def check_permissions(connection: Connection, namespace: str | None = None
                      ) -> tuple[list[Resource], list[Permission]]:
    """The kinds a scan would read here (namespaced kinds in `namespace` only, when given), and a
    verdict for each (kind, verb)."""
    resources, _ = Discovery(ApiReader(connection)).resources(WANTED)
    resources = [replace(r, namespace=namespace) for r in resources]
    pairs = [(r, verb) for r in resources for verb in VERBS]
    with ThreadPoolExecutor(8) as pool:
        return resources, list(pool.map(lambda p: review(connection, *p), pairs))


def minimal_cluster_role(resources: list[Resource], name: str = "kspm-tui-reader") -> str:
    """A read-only ClusterRole covering what a live scan lists (Secrets separate and optional)."""
    by_group: dict[str, list[str]] = defaultdict(list)
    for r in resources:
        if r.kind != "Secret":
            by_group[_group(r)].append(r.plural)
    rules = [{"apiGroups": [g], "resources": sorted(set(plurals)), "verbs": ["get", "list", "watch"]}
             for g, plurals in sorted(by_group.items())]
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "kspm-tui"}}, "rules": rules}
    secrets = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list", "watch"]}
    return (dump_yaml(role)
            + "# Optional: lets kspm-tui list Secret *metadata* (it asks for PartialObjectMetadata only).\n"
            + "# RBAC cannot restrict list to metadata, so this grants reading Secret values too; leave\n"
            + "# it out and Secret-based rules report not-assessable instead.\n"
            + "\n".join("# " + line for line in dump_yaml([secrets]).splitlines()) + "\n")
