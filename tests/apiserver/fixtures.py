"""Pytest fixtures for live tests: test API servers that check their own request log on teardown.

Import the fixtures into a test module (`from tests.apiserver.fixtures import serve, ...`).
Every server started through `serve` must, by the end of the test, have seen only GET requests
(plus self-subject access reviews, or PolicyReport applies and deletes, where a test allowed
them) and must never have sent a Secret body: that is the read-only promise, asserted for every
live test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kspm_tui.sources.files import read_paths
from tests.apiserver.server import ApiServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "live"
CLUSTER = FIXTURES / "cluster.yaml"
TEST_RULES = FIXTURES / "rules"


def manifests(path: Path = CLUSTER) -> list[dict[str, Any]]:
    """Objects parsed by the same reader the offline scan uses."""
    collected = read_paths([str(path)])
    assert not collected.errors, collected.errors
    return [item.obj for item in collected.objects]


def assert_read_only(server: ApiServer) -> None:
    for entry in server.log:
        review = server.allow_reviews and entry.method == "POST" and entry.path.endswith("selfsubjectaccessreviews")
        report = server.allow_report_writes and entry.method in ("PATCH", "DELETE") and entry.path.startswith(
            "/apis/wgpolicyk8s.io/v1alpha2/") and entry.status != 405
        assert entry.method == "GET" or review or report, f"non-GET request: {entry.method} {entry.path}"
        assert not entry.secret_data, f"a Secret body was served: {entry.path}"
        if "/secrets" in entry.path and entry.method == "GET":
            assert "PartialObjectMetadata" in entry.accept or "as=Table" in entry.accept, entry


@pytest.fixture
def serve() -> Iterator[Callable[..., ApiServer]]:
    """Start test API servers (objects default to the fixture cluster); stopped and audited after."""
    servers: list[ApiServer] = []

    def start(objects: list[dict[str, Any]] | None = None, **kwargs: Any) -> ApiServer:
        server = ApiServer(manifests() if objects is None else objects, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        assert_read_only(server)


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Callable[..., Path]:
    """Write a kubeconfig for a server: `kubeconfig(server, context="test", token=...)`."""

    def write(api: ApiServer, name: str = "kubeconfig", **kwargs: Any) -> Path:
        return api.write_kubeconfig(tmp_path / name, **kwargs)

    return write
