"""`--format csv`: one row per failing, accepted or not-assessable finding, for spreadsheets.

Written in pieces (`chunks`) of a thousand rows, not built whole.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from io import StringIO

from kspm_tui.model import ScanResult, Status
from kspm_tui.textsafe import csv_cell

COLUMNS = ("severity", "status", "rule", "title", "category", "cluster", "kind", "namespace", "name",
           "container", "message", "file", "line", "accepted_by", "accepted_reason", "accepted_until",
           "frameworks", "kubectl", "fingerprint")


_ROWS_PER_CHUNK = 1000


def chunks(result: ScanResult) -> Iterator[bytes]:
    buffer = StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = 0
    for f in result.findings:
        if f.status is Status.passed:
            continue
        acc = f.acceptance if f.status is Status.accepted else None
        writer.writerow(csv_cell(v) for v in [
            f.severity.value, f.status.value, f.rule, f.title, f.category.value, f.cluster, f.kind,
            f.namespace or "", f.name, f.container or "", f.message, f.source.file or "",
            f.source.line or "", acc.owner if acc else "", acc.reason if acc else "",
            acc.expires.isoformat() if acc and acc.expires else "", " ".join(f.frameworks),
            f.remediation.kubectl or "", f.fingerprint,
        ])
        rows += 1
        if rows % _ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def render(result: ScanResult) -> str:
    return b"".join(chunks(result)).decode()
