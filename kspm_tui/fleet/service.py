"""Every context's posture from its PolicyReports, read concurrently; and one cluster's reports
as a `Scanned`, so the explorer drills into them as into a scan.

One list per context (PolicyReports of all namespaces, then ClusterPolicyReports), each under
the context's `--request-timeout`, failures as the one sentence a live scan gives. A context
whose cluster serves no kspm-tui reports is "no reporter" (the explorer scans it live instead).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from typing import TYPE_CHECKING

from kspm_tui.fleet.posture import NO_ACCESS, NO_REPORTER, OK, UNREACHABLE, ClusterPosture
from kspm_tui.fleet.reports import Place, rebuild
from kspm_tui.sources import Collected, SourceUnavailable
from kspm_tui.sources.apiclient import ApiError, ConnectionLost
from kspm_tui.sources.policyreports import list_reports
from kspm_tui.target import ScanSettings, Target, connect

if TYPE_CHECKING:
    from kspm_tui.engine.loader import RuleSet
    from kspm_tui.scan import Scanned

WORKERS = 8


def read_cluster(target: Target, ruleset: RuleSet) -> ClusterPosture:
    """One context's reports, read-only; never raises for what a cluster or kubeconfig can get wrong."""
    name = target.context or "current context"
    try:
        connection = connect(target)
    except SourceUnavailable as exc:
        return ClusterPosture(name, UNREACHABLE, str(exc))
    name, server = connection.context.name, connection.server
    try:
        reports = list_reports(connection)
    except (SourceUnavailable, ConnectionLost) as exc:
        return ClusterPosture(name, UNREACHABLE, str(exc), server)
    except ApiError as exc:
        status = NO_ACCESS if exc.status in (401, 403) else UNREACHABLE
        return ClusterPosture(name, status, f"context {name!r}: cannot list PolicyReports ({exc.status} "
                                            f"{exc.reason}: {exc.message[:160]})", server)
    finally:
        connection.close()
    if reports is None:
        return ClusterPosture(name, NO_REPORTER, "PolicyReport CRDs not installed", server)
    if not reports:
        return ClusterPosture(name, NO_REPORTER, "no kspm-tui PolicyReports", server)
    return ClusterPosture(name, OK, "", server, rebuild(reports, ruleset, Place(name, name, server)))


def read_fleet(targets: Sequence[Target], ruleset: RuleSet,
               done: Callable[[int, ClusterPosture], None] | None = None) -> list[ClusterPosture]:
    """Every target's posture, concurrently, in the targets' order; `done(i, posture)` as each lands."""
    rows: list[ClusterPosture | None] = [None] * len(targets)
    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(targets)), thread_name_prefix="fleet") as pool:
        futures = {pool.submit(read_cluster, target, ruleset): i for i, target in enumerate(targets)}
        for future in as_completed(futures):
            i = futures[future]
            rows[i] = future.result()
            if done is not None:
                done(i, rows[i])
    return [row for row in rows if row is not None]


def scan_reports(target: Target, settings: ScanSettings, ruleset: RuleSet) -> Scanned:
    """A context's reports as a Scanned (no objects: the reports hold findings only), for the drill."""
    from kspm_tui.scan import Scanned
    from kspm_tui.snapshot import Snapshot

    posture = read_cluster(replace(target, kind="context"), ruleset)
    if posture.rebuilt is None:
        reason = posture.reason if not posture.readable else (
            f"context {posture.context!r} has no kspm-tui reports ({posture.reason}): scan it live instead")
        raise SourceUnavailable(reason)
    settings = replace(settings, context=posture.context, cluster_name=posture.context, server=posture.server)
    result = posture.rebuilt.result
    return Scanned(target, Collected(), Snapshot((), cluster_id=result.cluster.id), result, ruleset, settings)

