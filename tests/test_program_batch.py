"""A ProgramSet runs its programs one by one until BATCH_AFTER distinct inputs, then as one
compiled list expression: each program's result (or its own error) is the same either way."""

from __future__ import annotations

from kspm_tui.engine.cel import BATCH_AFTER, CelError, ProgramSet, compile_expression

SOURCES = ["container.port > 1024", "'port ' + string(container.port)", "container.name.size()",
           "container.port / container.zero"]  # the last one fails on every input


def _outcomes(results: list[object]) -> list[object]:
    return [type(r).__name__ if isinstance(r, CelError) else r for r in results]


def test_results_are_the_same_before_and_after_the_programs_are_batched() -> None:
    programs = [compile_expression(source) for source in SOURCES]
    together = ProgramSet(programs, {"container": None}, {})
    runs = BATCH_AFTER + 20
    seen = [_outcomes(together.run({"container": {"port": port, "name": f"c{port}", "zero": 0}}))
            for port in range(1000, 1000 + runs)]
    ok = ProgramSet(programs[:3], {"container": None}, {})
    batched = [_outcomes(ok.run({"container": {"port": port, "name": f"c{port}", "zero": 0}}))
               for port in range(1000, 1000 + runs)]
    assert ok._batch is not None
    for port, (all_four, first_three) in enumerate(zip(seen, batched, strict=True), start=1000):
        assert all_four[:3] == first_three == [port > 1024, f"port {port}", len(f"c{port}")]
        assert all_four[3] == "CelError"


def test_a_small_scan_compiles_no_batch() -> None:
    programs = [compile_expression(source) for source in SOURCES[:3]]
    few = ProgramSet(programs, {"container": None}, {})
    for port in range(5):
        assert _outcomes(few.run({"container": {"port": port, "name": "c", "zero": 0}})) == [False, f"port {port}", 1]
    assert few._batch is None
