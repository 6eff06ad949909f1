"""`--baseline FILE`: a previous JSON report, so CI fails only on findings that are new.

A finding is "known" when the baseline has the same fingerprint (rule + cluster + kind +
namespace + name + container) failing or accepted; fixing something and re-introducing it
later makes it new again only if it was absent from the baseline.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from kspm_tui.model import Finding, ScanResult, Status
from kspm_tui.yamlio import load_json


def load_baseline(path: Path) -> set[str]:
    """Fingerprints of failing/accepted findings in a JSON report; ValueError says what is wrong."""
    try:
        data = load_json(path.read_bytes())
    except OSError as exc:
        raise ValueError(f"cannot read baseline {path}: {exc.strerror}") from None
    except ValueError:  # orjson.JSONDecodeError
        raise ValueError(f"baseline {path} is not JSON (write one with `kspm-tui scan -o json`)") from None
    findings = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(findings, list):
        raise ValueError(f"baseline {path} has no `findings` list: not a kspm-tui JSON report")
    known = set()
    for item in findings:
        if not isinstance(item, dict):
            continue
        if item.get("status") in (Status.fail.value, Status.accepted.value):
            try:
                fingerprint = item.get("fingerprint") or Finding.model_validate(item).fingerprint
            except ValidationError:
                continue  # not a finding: nothing to compare against
            known.add(fingerprint)
    return known


def new_findings(result: ScanResult, known: set[str]) -> list[Finding]:
    """Failing findings absent from the baseline."""
    return [f for f in result.findings if f.status is Status.fail and f.fingerprint not in known]
