"""What a live listing keeps: one copy of each short value, as the YAML loader keeps them."""

from __future__ import annotations

from kspm_tui.sources.kubeconfig import connect
from kspm_tui.sources.live import Collector
from tests.apiserver.fixtures import manifests


def test_listed_objects_share_their_short_values(serve, kubeconfig):
    # Each Pod arrives in its own JSON text, so without interning every "team-a", image and
    # "IfNotPresent" is a fresh string per object; the 10k bench cluster holds ~20 % less that way.
    container = {"name": "c", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent"}
    pods = [{"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": f"p{i:03}", "namespace": "team-a", "labels": {"app": "web", "id": f"n{i}"}},
             "spec": {"containers": [container]}} for i in range(120)]
    server = serve(manifests() + pods)
    connection = connect(None, str(kubeconfig(server)))
    try:
        objects = [i.obj for i in Collector(connection, page_size=50).run().collected.objects]
    finally:
        connection.close()
    listed = [o for o in objects if o["kind"] == "Pod" and o["metadata"]["name"].startswith("p")]
    assert len(listed) == 120  # three pages
    first, *rest = listed
    for pod in rest:
        assert pod["metadata"]["namespace"] is first["metadata"]["namespace"]
        assert pod["metadata"]["labels"]["app"] is first["metadata"]["labels"]["app"]
        mine, other = pod["spec"]["containers"][0], first["spec"]["containers"][0]
        assert mine["image"] is other["image"]
        assert mine["imagePullPolicy"] is other["imagePullPolicy"]
    # values are kept, not merely shared
    assert [p["metadata"]["labels"]["id"] for p in listed] == [f"n{i}" for i in range(120)]
    assert first["spec"]["containers"][0] == container
