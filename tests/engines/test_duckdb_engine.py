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


def _setting(engine: object, name: str) -> str:
    return str(engine.scalar(f"SELECT current_setting('{name}')"))  # type: ignore[attr-defined]


@pytest.mark.parametrize("batches, engines, threads", [(10, 4, 1), (2, 2, 2), (3, 3, 1), (1, 1, 4)])
def test_batch_engines_share_the_cores_and_the_memory(batches: int, engines: int, threads: int) -> None:
    engine = get_engine("duckdb", threads=4, memory_limit="800MiB")
    loaders = engine.batch_engines(batches)
    try:
        assert len(loaders) == engines
        assert [_setting(e, "threads") for e in loaders] == [str(threads if engines > 1 else 4)] * engines
        if engines == 1:
            assert loaders == [engine]  # the engine itself: nothing to split
        else:
            shares = [float(_setting(e, "memory_limit").removesuffix(" MiB")) for e in loaders]
            assert 799 <= sum(shares) <= 800 and max(shares) - min(shares) < 0.1
            # each its own database: a table of one is not seen by another
            loaders[0].execute("CREATE TABLE batch_rows AS SELECT 1 AS x")
            loaders[1].execute("CREATE TABLE batch_rows AS SELECT 2 AS x")
            assert [e.scalar("SELECT x FROM batch_rows") for e in loaders[:2]] == [1, 2]
    finally:
        for loader in {*loaders, engine}:
            loader.close()


def test_a_failure_to_read_is_not_the_statements_fault(tmp_path) -> None:
    from campuslake.errors import EngineError

    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really parquet PAR1")
    with get_engine("duckdb", threads=1) as engine:
        with pytest.raises(EngineError) as raised:
            engine.rows(f"SELECT * FROM read_parquet('{broken}')")
        assert not raised.value.statement_at_fault
        with pytest.raises(EngineError) as raised:
            engine.rows("SELECT nope")
        assert raised.value.statement_at_fault
