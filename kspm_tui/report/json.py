"""`--format json`: the public, stable document (see README "JSON output").

Its JSON Schema is published in the repository as `schemas/scan-result.schema.json`,
generated from the pydantic model (regenerate with `python -m kspm_tui.report.json`);
a test keeps the file in step with the model and validates real output against it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from pydantic import TypeAdapter

from kspm_tui.model import Finding, ScanResult
from kspm_tui.yamlio import dump_json

# Serialised by pydantic's Rust core straight to UTF-8 JSON: no intermediate tree of Python
# dicts (for 100k findings that tree alone weighs more than the report). The bytes are
# identical to `orjson.dumps(result.model_dump(mode="json"), option=OPT_INDENT_2)`.
_SCAN_RESULT = TypeAdapter(ScanResult)
# A chunk of findings is serialised inside `{"findings": [...]}`, where its items stand at the
# document's own indentation: the text between these two is the chunk, ready to write.
_CHUNK = TypeAdapter(dict[str, list[Finding]])
_CHUNK_OPEN, _CHUNK_CLOSE = b'{\n  "findings": [\n', b"\n  ]\n}"
_NO_FINDINGS = b'\n  "findings": []'
_FINDINGS_PER_CHUNK = 500

SCHEMA_ID = "https://kspm-tui.dev/schemas/scan-result.schema.json"


def render(result: ScanResult) -> str:
    return b"".join(chunks(result)).decode()


def chunks(result: ScanResult) -> Iterator[bytes]:
    """The document in pieces, findings a few hundred at a time, for writing as it is made.

    A 10k-workload scan's report is ~200 MB; built whole it would exist two or three times
    over (serialiser buffer, bytes, text) on top of the findings themselves. The pieces
    join to exactly the bytes of serialising the whole result at once (tested).
    """
    head = _SCAN_RESULT.dump_json(result.model_copy(update={"findings": []}), indent=2)
    cut = head.index(_NO_FINDINGS) + len(_NO_FINDINGS) - 1  # at the `]` of the empty list
    if not result.findings:
        yield head + b"\n"
        return
    yield head[: cut - 1] + b"[\n"
    findings = result.findings
    for start in range(0, len(findings), _FINDINGS_PER_CHUNK):
        # one call into pydantic's core per chunk (not per finding), and no re-indenting
        text = _CHUNK.dump_json({"findings": findings[start:start + _FINDINGS_PER_CHUNK]}, indent=2)
        last = start + _FINDINGS_PER_CHUNK >= len(findings)
        yield text[len(_CHUNK_OPEN):-len(_CHUNK_CLOSE)] + (b"\n  " if last else b",\n")
    yield head[cut:] + b"\n"


def json_schema() -> dict[str, Any]:
    schema = ScanResult.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "kspm-tui scan result", **schema}


if __name__ == "__main__":
    sys.stdout.write(dump_json(json_schema(), indent=True).decode() + "\n")
