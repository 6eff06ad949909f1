"""Every error a user can hit on a live scan: one sentence naming the context, exit 3, no traceback."""

from __future__ import annotations

import socket

import pytest
import trustme

from kspm_tui import exit_codes


def assert_one_sentence(result, *needles: str) -> None:
    assert result.code == exit_codes.UNAVAILABLE, (result.code, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_no_kubeconfig(run_cli, tmp_path):
    env = {"KUBECONFIG": str(tmp_path / "missing"), "HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": ""}
    result = run_cli("scan", "--context", "prod", env=env)
    assert_one_sentence(result, "no kubeconfig found", "--kubeconfig")
    assert_one_sentence(run_cli("contexts", env=env), "no kubeconfig found")


def test_broken_kubeconfig(run_cli, tmp_path):
    config = tmp_path / "config"
    config.write_text("apiVersion: v1\nclusters: [\n")
    result = run_cli("scan", "--context", "prod", "--kubeconfig", str(config))
    assert_one_sentence(result, f"kubeconfig {config} is not valid YAML")


def test_unknown_context(serve, kubeconfig, run_cli):
    server = serve()
    result = run_cli("scan", "--context", "prod", "--kubeconfig", str(kubeconfig(server)))
    assert_one_sentence(result, "context 'prod' is not in the kubeconfig", "known: test", "kspm-tui contexts")


def test_unreachable_server(serve, kubeconfig, run_cli):
    server = serve()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    config = kubeconfig(server, server=f"https://127.0.0.1:{port}")
    result = run_cli("scan", "--context", "test", "--kubeconfig", str(config))
    assert_one_sentence(result, f"cannot reach the API server https://127.0.0.1:{port} of context 'test'",
                        "connection refused")


def test_server_that_never_answers_times_out(serve, kubeconfig, run_cli):
    server = serve()
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts TCP (backlog) but never speaks TLS
        config = kubeconfig(server, server=f"https://127.0.0.1:{silent.getsockname()[1]}")
        result = run_cli("scan", "--context", "test", "--kubeconfig", str(config), "--request-timeout", "1")
    assert_one_sentence(result, "of context 'test' did not answer within 1s")


def test_tls_verification_failure(serve, kubeconfig, run_cli):
    server = serve()
    config = kubeconfig(server, ca_pem=trustme.CA().cert_pem.bytes())
    result = run_cli("scan", "--context", "test", "--kubeconfig", str(config))
    assert_one_sentence(result, f"TLS verification failed for {server.url} (context 'test')",
                        "certificate-authority")


def test_rejected_credentials(serve, kubeconfig, run_cli):
    server = serve()
    result = run_cli("scan", "--context", "test", "--kubeconfig", str(kubeconfig(server, token="expired")))
    assert_one_sentence(result, "rejected the credentials of context 'test' (401 Unauthorized)", "log in again")


def test_missing_exec_plugin(serve, kubeconfig, run_cli):
    server = serve()
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "kspm-no-such-login-plugin",
                     "interactiveMode": "Never"}}
    result = run_cli("scan", "--context", "test", "--kubeconfig", str(kubeconfig(server, user=user)))
    assert_one_sentence(result, "context 'test'", "exec plugin 'kspm-no-such-login-plugin'", "install it")


def test_failing_exec_plugin(serve, kubeconfig, run_cli, tmp_path):
    server = serve()
    plugin = tmp_path / "login-plugin"
    plugin.write_text("#!/bin/sh\necho 'refresh token expired, run: acme login' >&2\nexit 1\n")
    plugin.chmod(0o755)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
                     "interactiveMode": "Never"}}
    result = run_cli("scan", "--context", "test", "--kubeconfig", str(kubeconfig(server, user=user)))
    assert_one_sentence(result, "context 'test': getting credentials failed", "acme login", "retry")


def test_exec_plugin_that_works_authenticates(serve, kubeconfig, run_cli, tmp_path):
    server = serve()
    plugin = tmp_path / "login-plugin"
    plugin.write_text('#!/bin/sh\necho \'{"apiVersion": "client.authentication.k8s.io/v1", '
                      '"kind": "ExecCredential", "status": {"token": "test-token"}}\'\n')
    plugin.chmod(0o755)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
                     "interactiveMode": "Never"}}
    result = run_cli("scan", "--context", "test", "--kubeconfig", str(kubeconfig(server, user=user)))
    assert result.code == exit_codes.OK, result.stderr
    assert "K8S-PRIVILEGED" in result.stdout


def test_forbidden_everywhere(serve, kubeconfig, run_cli):
    from tests.apiserver.resources import RESOURCES

    server = serve()
    server.forbidden.update(r.plural for r in RESOURCES)
    result = run_cli("scan", "--context", "test", "--kubeconfig", str(kubeconfig(server)))
    assert_one_sentence(result, "context 'test' may not list anything (403 Forbidden on every kind)",
                        "kspm-tui doctor --context test")


@pytest.mark.parametrize("args", [["--demo"], ["some/path"]])
def test_context_and_other_sources_exclude_each_other(run_cli, args):
    result = run_cli("scan", "--context", "test", *args)
    assert result.code == exit_codes.INPUT_ERRORS
    assert "not both" in result.stderr


def _id_token(expires: int) -> str:
    """An OIDC id-token as an identity provider issues it (a JWT; the API server verifies it)."""
    import base64
    import json

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"iss": "https://login.example.invalid", "sub": "alice", "aud": "kspm", "exp": expires}
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def _oidc_user(token: str) -> dict:
    return {"auth-provider": {"name": "oidc", "config": {
        "client-id": "kspm", "idp-issuer-url": "https://login.example.invalid", "id-token": token,
        "refresh-token": "refresh-me"}}}


def test_oidc_auth_provider_authenticates(serve, kubeconfig, run_cli):
    import time

    token = _id_token(int(time.time()) + 3600)
    server = serve(token=token)  # the server accepts only this id-token as the bearer token
    config = kubeconfig(server, user=_oidc_user(token))
    result = run_cli("scan", "--context", "test", "--kubeconfig", str(config))
    assert result.code == exit_codes.OK, result.stderr
    assert "K8S-PRIVILEGED" in result.stdout
    assert all(r.status != 401 for r in server.log)


def test_oidc_expired_id_token_is_one_sentence(serve, kubeconfig, run_cli):
    server = serve()
    config = kubeconfig(server, user=_oidc_user(_id_token(1_000_000_000)))  # expired in 2001
    result = run_cli("scan", "--context", "test", "--kubeconfig", str(config))
    assert_one_sentence(result, "context 'test': refreshing its expired token failed", "log in again")
    assert not server.log  # nothing was sent with a token known to be stale
