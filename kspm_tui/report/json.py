"""`--format json`: the public, stable document (see README "JSON output").

Its JSON Schema is published in the repository as `schemas/scan-result.schema.json`,
generated from the pydantic model (regenerate with `python -m kspm_tui.report.json`);
a test keeps the file in step with the model and validates real output against it.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import TypeAdapter

from kspm_tui.model import ScanResult
from kspm_tui.yamlio import dump_json

# Serialised by pydantic's Rust core straight to UTF-8 JSON: no intermediate tree of Python
# dicts (for 100k findings that tree alone weighs more than the report). The bytes are
# identical to `orjson.dumps(result.model_dump(mode="json"), option=OPT_INDENT_2)`.
_SCAN_RESULT = TypeAdapter(ScanResult)

SCHEMA_ID = "https://kspm-tui.dev/schemas/scan-result.schema.json"


def render(result: ScanResult) -> str:
    return _SCAN_RESULT.dump_json(result, indent=2).decode() + "\n"


def json_schema() -> dict[str, Any]:
    schema = ScanResult.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "kspm-tui scan result", **schema}


if __name__ == "__main__":
    sys.stdout.write(dump_json(json_schema(), indent=True).decode() + "\n")
