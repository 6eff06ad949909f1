"""Kube contexts, read the way kubectl reads them, and an authenticated API client for one.

`--kubeconfig FILE` wins, else `KUBECONFIG` (several files merged, first definition of a
name wins, first `current-context` set wins), else `~/.kube/config`; with none of those, the
in-cluster service account when running in a Pod. Loading and auth (tokens, client certs,
exec plugins, OIDC) and the TLS/HTTP transport are the `kubernetes` package's; what we add
is one clear sentence, naming the context, for everything a user can get wrong, and bounds:
an exec credential plugin runs under the request timeout and only the first line of its
stderr is kept (redacted); server URLs are shown without userinfo.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import urllib3
import yaml
from kubernetes.client import ApiClient, Configuration
from kubernetes.config import kube_config
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.exec_provider import ExecProvider
from kubernetes.config.incluster_config import SERVICE_HOST_ENV_NAME, InClusterConfigLoader
from kubernetes.config.kube_config import ENV_KUBECONFIG_PATH_SEPARATOR, KubeConfigLoader, KubeConfigMerger
from pydantic import BaseModel

from kspm_tui.sources import SourceUnavailable

IN_CLUSTER = "in-cluster"
# Where a Pod's service account token and CA are mounted; KSPM_TUI_SERVICEACCOUNT_DIR moves it (tests).
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_TIMEOUT = (10.0, 60.0)  # (connect, read) seconds per request


class LiveError(SourceUnavailable):
    """A problem the user must fix before anything can be scanned; str() is the sentence."""


class ContextInfo(BaseModel):
    """One kube context as `kspm-tui contexts` lists it."""

    name: str
    cluster: str
    server: str | None = None
    user: str | None = None
    namespace: str | None = None
    current: bool = False


@dataclass(slots=True)
class Connection:
    """An authenticated client for one context, and what we know about that context."""

    client: ApiClient
    context: ContextInfo
    timeout: tuple[float, float] = DEFAULT_TIMEOUT

    @property
    def server(self) -> str:
        """The API server URL as shown to users: never with userinfo."""
        return without_userinfo(self.client.configuration.host)

    @property
    def notice(self) -> str | None:
        """One line to show before scanning, when the connection is weaker than it looks."""
        if self.client.configuration.verify_ssl:
            return None
        return (f"context {self.context.name!r} skips TLS verification (insecure-skip-tls-verify): "
                f"the identity of {self.server} is not checked")

    def close(self) -> None:
        self.client.close()


def kubeconfig_paths(explicit: str | None = None) -> list[Path]:
    """The files kubectl would read, in order (only those that exist)."""
    if explicit:
        return [Path(explicit).expanduser()]
    env = os.environ.get("KUBECONFIG")
    raw = env.split(ENV_KUBECONFIG_PATH_SEPARATOR) if env else ["~/.kube/config"]
    return [p for p in (Path(r).expanduser() for r in raw if r) if p.is_file()]


def _in_cluster_available() -> bool:
    return bool(os.environ.get(SERVICE_HOST_ENV_NAME))


def _merged(explicit: str | None) -> Any:
    """The merged kubeconfig (a ConfigNode), or None when there is no kubeconfig at all."""
    if explicit and not Path(explicit).expanduser().is_file():
        raise LiveError(f"kubeconfig {explicit} does not exist: check the --kubeconfig path")
    paths = kubeconfig_paths(explicit)
    if not paths:
        return None
    try:
        merger = KubeConfigMerger(ENV_KUBECONFIG_PATH_SEPARATOR.join(str(p) for p in paths))
        merged = merger.config
    except (ConfigException, OSError, ValueError) as exc:
        raise LiveError(f"cannot read kubeconfig {', '.join(map(str, paths))}: {_first_line(exc)}") from None
    except yaml.YAMLError as exc:
        raise LiveError(f"kubeconfig {', '.join(map(str, paths))} is not valid YAML ({_first_line(exc)})") from None
    except (TypeError, AttributeError, KeyError) as exc:  # YAML, but not shaped like a kubeconfig
        raise _malformed(paths, exc) from None
    # As kubectl: the first file that sets current-context wins (the kubernetes package keeps the last).
    current = next((c["current-context"] for c in map(merger.config_files.get, merger.paths)
                    if isinstance(c, dict) and c.get("current-context")), None)
    if current is not None:
        merged.value["current-context"] = current
    return merged


def _malformed(paths: list[Path], exc: Exception) -> LiveError:
    return LiveError(f"kubeconfig {', '.join(map(str, paths))} is malformed ({type(exc).__name__}: "
                     f"{_first_line(exc)}): compare it with `kubectl config view`")


def _no_kubeconfig() -> LiveError:
    return LiveError("no kubeconfig found (looked at --kubeconfig, $KUBECONFIG and ~/.kube/config): "
                     "point --kubeconfig or KUBECONFIG at one, or run `kubectl config` to create it")


def list_contexts(kubeconfig: str | None = None) -> list[ContextInfo]:
    """Every context of the merged kubeconfig (or the in-cluster one when in a Pod)."""
    merged = _merged(kubeconfig)
    try:
        return _contexts(merged)
    except (ConfigException, TypeError, AttributeError, KeyError, ValueError) as exc:  # ValueError: pydantic
        raise _malformed(kubeconfig_paths(kubeconfig), exc) from None


def _contexts(merged: Any) -> list[ContextInfo]:
    if merged is None:
        if _in_cluster_available():
            return [_in_cluster_context()]
        raise _no_kubeconfig()
    value = merged.value
    clusters = {c["name"]: (c.value if hasattr(c, "value") else c).get("cluster") or {}
                for c in value.get("clusters") or []}
    current = value.get("current-context")
    out = []
    for node in value.get("contexts") or []:
        ctx = node.value if hasattr(node, "value") else node
        body = ctx.get("context") or {}
        cluster = body.get("cluster", "")
        server = clusters.get(cluster, {}).get("server")
        out.append(ContextInfo(
            name=ctx["name"], cluster=cluster, server=without_userinfo(server) if server else None,
            user=body.get("user"), namespace=body.get("namespace"), current=ctx["name"] == current,
        ))
    return out


def _in_cluster_context() -> ContextInfo:
    host = os.environ[SERVICE_HOST_ENV_NAME]
    return ContextInfo(name=IN_CLUSTER, cluster=IN_CLUSTER, server=f"https://{host}", current=True)


def _load_in_cluster(configuration: Configuration) -> None:
    """The Pod's service account (token re-read as the kubelet rotates it) and the cluster CA."""
    folder = Path(os.environ.get("KSPM_TUI_SERVICEACCOUNT_DIR") or SERVICE_ACCOUNT_DIR)
    try:
        InClusterConfigLoader(token_filename=str(folder / "token"),
                              cert_filename=str(folder / "ca.crt")).load_and_set(configuration)
    except ConfigException as exc:
        raise LiveError(f"in-cluster service account unusable ({exc}): "
                        "mount the service account token or use a kubeconfig") from None


def resolve_context(name: str | None, kubeconfig: str | None = None) -> ContextInfo:
    """The named context, or the current one; a clear error when neither exists."""
    contexts = list_contexts(kubeconfig)
    if name is None:
        for ctx in contexts:
            if ctx.current:
                return ctx
        raise LiveError("the kubeconfig has no current context: pass --context NAME "
                        "(see `kspm-tui contexts`)")
    for ctx in contexts:
        if ctx.name == name:
            return ctx
    known = ", ".join(c.name for c in contexts) or "none"
    raise LiveError(f"context {name!r} is not in the kubeconfig (known: {known}): "
                    f"see `kspm-tui contexts`")


def connect(name: str | None = None, kubeconfig: str | None = None, *,
            pool_size: int = 64, timeout: float | None = None) -> Connection:
    """An ApiClient for the context, with every auth kind the `kubernetes` package supports.

    `timeout` (like kubectl's --request-timeout) bounds connecting and each read.
    """
    # `in-cluster` named in a Pod means the Pod's service account, whatever kubeconfig lies around.
    in_cluster = name == IN_CLUSTER and not kubeconfig and _in_cluster_available()
    context = _in_cluster_context() if in_cluster else resolve_context(name, kubeconfig)
    timeouts = (timeout, timeout) if timeout else DEFAULT_TIMEOUT
    configuration = Configuration()
    configuration.connection_pool_maxsize = pool_size
    configuration.retries = False  # we retry ourselves, knowing which errors are worth it
    if in_cluster or (context.name == IN_CLUSTER and not kubeconfig_paths(kubeconfig)):
        _load_in_cluster(configuration)
        return Connection(ApiClient(configuration), context, timeouts)
    merged = _merged(kubeconfig)
    _check_exec_plugin(merged, context)
    limit = _EXEC_TIMEOUT.set(timeout or DEFAULT_TIMEOUT[1])
    try:
        with _logged_errors() as problems:
            loader = KubeConfigLoader(config_dict=merged, active_context=context.name, config_base_path=None)
            loader.load_and_set(configuration)
        if problems:  # kubernetes logs a failed exec plugin / token refresh and carries on unauthenticated
            raise LiveError(f"context {context.name!r}: getting credentials failed ({problems[0]}): "
                            "run the login command by hand (or fix the kubeconfig user), then retry")
    except ConfigException as exc:
        raise LiveError(f"context {context.name!r}: kubeconfig is incomplete ({exc}): "
                        "fix the context's cluster and user entries") from None
    except (OSError, ValueError) as exc:
        raise LiveError(f"context {context.name!r}: cannot load credentials ({exc}): "
                        "check the certificate and key files the kubeconfig names") from None
    except urllib3.exceptions.HTTPError as exc:  # an expired OIDC token whose issuer cannot be reached
        reason = getattr(exc, "reason", None) or exc
        raise LiveError(f"context {context.name!r}: refreshing its expired token failed ({_first_line(reason)}): "
                        "log in again to get a fresh token, then retry") from None
    finally:
        _EXEC_TIMEOUT.reset(limit)
    if not configuration.verify_ssl:  # our one notice line (Connection.notice) replaces one warning per request
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    return Connection(ApiClient(configuration), context, timeouts)


def without_userinfo(url: str) -> str:
    """`https://user:pass@host:6443/x` → `https://host:6443/x`: URLs are printed, passwords never."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


# Seconds an exec credential plugin may take: the request timeout of the connect() that runs it
# (a token refresh later in the scan, in a worker thread, gets the default).
_EXEC_TIMEOUT: ContextVar[float] = ContextVar("exec_timeout", default=DEFAULT_TIMEOUT[1])


class _BoundedExecProvider(ExecProvider):
    """The `kubernetes` package's exec plugin runner, bounded: a plugin that hangs is killed
    after the request timeout (with its process group), never reads our terminal, and its
    stderr is cut to one redacted line instead of echoed."""

    def run(self, previous_response: Any = None) -> Any:
        name = Path(self.args[0]).name
        spec: dict[str, Any] = {"interactive": False}
        if previous_response:
            spec["response"] = previous_response
        if self.cluster:
            spec["cluster"] = self.cluster.value
        self.env["KUBERNETES_EXEC_INFO"] = json.dumps({"apiVersion": self.api_version, "kind": "ExecCredential",
                                                       "spec": spec})
        timeout = _EXEC_TIMEOUT.get()
        try:
            process = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, cwd=self.cwd, env=self.env, text=True,
                                       start_new_session=True)
        except OSError as exc:
            raise ConfigException(f"exec plugin {name!r} could not start ({exc.strerror})") from None
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise ConfigException(f"exec plugin {name!r} gave no credentials within {timeout:g}s "
                                  "(it may be waiting for an interactive login)") from None
        if process.returncode != 0:
            from kspm_tui.redact import redact_text  # the one redaction of secret-shaped text

            said = f": {redact_text(_first_line(stderr))}" if stderr.strip() else ""
            raise ConfigException(f"exec plugin {name!r} exited with {process.returncode}{said}")
        try:
            data = json.loads(stdout)
            if data.get("apiVersion") != self.api_version or not isinstance(data.get("status"), dict):
                raise ValueError
        except (ValueError, AttributeError):
            raise ConfigException(f"exec plugin {name!r} printed no {self.api_version} ExecCredential") from None
        return data["status"]


kube_config.ExecProvider = _BoundedExecProvider  # the loader looks the runner up by this name


def _first_line(value: object, limit: int = 200) -> str:
    """The first line of an error's text (its type's name when it has none), for one-sentence errors."""
    lines = str(value).strip().splitlines()
    return lines[0][:limit] if lines else type(value).__name__


@contextmanager
def _logged_errors() -> Iterator[list[str]]:
    """Collect ERROR records the `kubernetes` package logs instead of raising, without printing them."""
    problems: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            problems.append(_first_line(record.getMessage()))

    root = logging.getLogger()
    handler = Collect(logging.ERROR)
    root.addHandler(handler)
    try:
        yield problems
    finally:
        root.removeHandler(handler)


def _check_exec_plugin(merged: Any, context: ContextInfo) -> None:
    """kubernetes only logs a missing exec plugin and goes on unauthenticated; say it plainly."""
    if not context.user:
        return
    for node in merged.value.get("users") or []:
        user = node.value if hasattr(node, "value") else node
        if user.get("name") != context.user:
            continue
        command = ((user.get("user") or {}).get("exec") or {}).get("command")
        if not command:
            return
        base = Path(getattr(node, "path", "") or ".").parent
        found = shutil.which(command) or (("/" in command) and (base / command).is_file())
        if not found:
            raise LiveError(f"context {context.name!r} authenticates with the exec plugin {command!r}, "
                            "which is not installed or not on PATH: install it (or fix users[].exec.command)")
        return
