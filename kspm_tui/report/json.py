"""`--format json`: the public, stable document (see README "JSON output")."""

from __future__ import annotations

from pydantic import TypeAdapter

from kspm_tui.model import ScanResult

# Serialised by pydantic's Rust core straight to UTF-8 JSON: no intermediate tree of Python
# dicts (for 100k findings that tree alone weighs more than the report). The bytes are
# identical to `orjson.dumps(result.model_dump(mode="json"), option=OPT_INDENT_2)`.
_SCAN_RESULT = TypeAdapter(ScanResult)


def render(result: ScanResult) -> str:
    return _SCAN_RESULT.dump_json(result, indent=2).decode() + "\n"
