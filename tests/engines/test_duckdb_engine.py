"""The DuckDB engine's own output: a CLI's `--json` on stdout must carry nothing else."""

from __future__ import annotations

import pytest

from campuslake.engines import get_engine


def test_a_long_statement_prints_no_progress_bar_on_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    engine = get_engine("duckdb", threads=1)
    try:
        # DuckDB draws its bar once a statement runs past progress_bar_time (2 s by default):
        # at 0 ms every statement of some length would draw it, if the engine allowed it
        engine.execute("SET progress_bar_time = 0")
        rows = engine.rows("SELECT count(DISTINCT i % 1000003) AS n FROM range(30000000) AS t(i)")
    finally:
        engine.close()
    assert rows == [{"n": 1000003}]
    assert capfd.readouterr().out == ""
