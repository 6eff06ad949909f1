"""The test API server expires a continue token as the real one does.

Kubernetes lists a page after the first at the resourceVersion its continue token carries; etcd
answers ErrCompacted only for a revision below its compaction revision (`rev < compactMainRev`
in mvcc's rangeKeys), which the API server turns into 410 Expired ("too old to display a
consistent list result"). So a token taken at the very revision compacted is still served, and
one from before a later change and compaction is not; watches already follow the same rule.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from tests.apiserver.fixtures import serve  # noqa: F401 - a fixture
from tests.apiserver.server import ApiServer

PODS = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "namespace": "default"},
         "spec": {"containers": [{"name": "c", "image": "nginx"}]}} for i in range(5)]


def get(server: ApiServer, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
    context = ssl.create_default_context(cadata=server.ca_pem.decode())
    request = urllib.request.Request(f"{server.url}/api/v1/pods?{urllib.parse.urlencode(query)}",
                                     headers={"Authorization": f"Bearer {server.token}"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_continue_token_at_the_compacted_revision_is_served_and_an_older_one_expires(serve) -> None:  # noqa: F811
    server = serve(PODS)
    status, first = get(server, {"limit": "2"})
    assert status == 200 and first["metadata"]["continue"]
    server.store.compact()  # nothing changed since the list: compacted at the token's own revision
    status, second = get(server, {"limit": "2", "continue": first["metadata"]["continue"]})
    assert status == 200
    assert [p["metadata"]["name"] for p in second["items"]] == ["p2", "p3"]

    server.store.put({**PODS[0], "metadata": {**PODS[0]["metadata"], "labels": {"changed": "yes"}}})
    server.store.compact()  # the token's revision is now below the compaction
    status, gone = get(server, {"limit": "2", "continue": second["metadata"]["continue"]})
    assert status == 410 and gone["reason"] == "Expired"
    assert "too old to display a consistent list result" in gone["message"]
