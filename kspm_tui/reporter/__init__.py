"""The in-cluster reporter: keeps wgpolicyk8s.io PolicyReports current from the scan service's watch.

`reports.py` turns a scan into the desired reports (pure), `writer.py` applies and deletes them
(server-side apply, the only writes kspm-tui makes), `metrics.py` serves /metrics, /healthz and
/readyz, `service.py` is the loop; `kspm-tui reporter` (cli/reporter.py) runs it.
"""
