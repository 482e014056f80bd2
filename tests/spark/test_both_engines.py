"""The same batches (generated, and hand-written reader faults) through DuckDB and Spark give the
same lake, quarantine and answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import curated, run_cli

ENGINES = ("duckdb", "spark")
HEADER = ("Employee_ID,Employee_Name,College_Degree,Department,Job_Role,DMC_Campus,Email,Phone_Number,"
          "Performance_Rating")
READER_FAULTS = {"unclosed_quote", "line_break", "repeated_header", "not_utf8"}


def _reader_fault_exports(folder: Path) -> list[Path]:
    """Hand-written exports with what the generator does not write: a quote that never closes,
    a line of another encoding in a UTF-8 file; and a name over two lines, a repeated header."""
    def rows(first: int, name: str = "José Peña") -> list[str]:
        return [f"{first + i},{name},BS Nursing,HR,HR Specialist,DMC Main,p{first + i}@example.com,"
                f"0917{first + i:07d},4" for i in range(40)]
    quote, lines, encoding = rows(700000), rows(710000), rows(720000)
    quote[10] = quote[10].replace("José", '"José')
    lines[5], lines[9] = lines[5].replace("José Peña", '"José\nPeña"'), HEADER
    latin1 = "730000,Nuñez,BS Nursing,HR,HR Specialist,DMC Main,n@example.com,09170000001,4\n".encode("latin-1")
    files = {"stray_quote.csv": "\n".join([HEADER, *quote]).encode(),
             "lines.csv": "\n".join([HEADER, *lines]).encode(),
             "encoding.csv": "\n".join([HEADER, *encoding, ""]).encode() + latin1}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in files]


@pytest.fixture(scope="module")
def lakes(tmp_path_factory: pytest.TempPathFactory, spark_session: Any) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Each engine's lake after ingesting the same exports (bad rows, duplicates, repeats, rejected
    files) in the same order and running once, folding the current rows' ranking after every
    batch as a long run does, and reading each file in slices as a large one is (duplicates of
    an earlier slice's rows included); with the run's accounting."""
    from campuslake import pipeline
    from campuslake.ingest import csv_source
    from campuslake.config import load_settings
    from campuslake.engines.duckdb import DuckDBEngine
    from campuslake.engines.spark import SparkEngine
    from campuslake.ingest.landing import land_file
    from campuslake.lake.lake import Lake
    from campuslake.pipeline import run_pending
    from campuslake.synth import generate_alumni

    exports = tmp_path_factory.mktemp("exports")
    manifest = generate_alumni(exports, rows=2000, files=3, seed=20261122, schema="mixed", bad_rate=0.08,
                               dup_rate=0.05, repeat_rate=0.15, file_mess=True, bad_files=True)
    files = [*manifest.files, *_reader_fault_exports(exports)]
    result = {}
    for name in ENGINES:
        root = tmp_path_factory.mktemp(name) / "lake"
        lake = Lake.open(load_settings(None, lake=str(root)))
        try:
            for path in files:
                land_file(lake, "alumni", path)
            engine = DuckDBEngine() if name == "duckdb" else SparkEngine(session=spark_session)
            with engine, pytest.MonkeyPatch.context() as patch:
                patch.setattr(pipeline, "REDUCE_EVERY_ROWS", 500)
                patch.setattr(pipeline, "SMALL_FILE_BYTES", 0)
                patch.setattr(pipeline, "SLICE_ROWS", 400)
                patch.setattr(csv_source, "CHUNK_BYTES", 16 << 10)
                run = run_pending(lake, "alumni", engine=engine).as_dict()
        finally:
            lake.close()
        result[name] = (root, run)
    return result


def _without_ingest_time(table: pa.Table) -> pa.Table:
    """Rows in a fixed order, without `_ingested_at` (each lake landed the files at its own time)."""
    return table.drop_columns(["_ingested_at"]).sort_by([("_batch_id", "ascending"), ("_source_line", "ascending")])


def test_both_engines_account_for_every_batch_alike(lakes):
    (_, duck), (_, spark) = lakes["duckdb"], lakes["spark"]
    assert spark["batches"] == duck["batches"]
    assert sum(b["rows_quarantined"] for b in duck["batches"]) > 0
    assert sum(b["rows_duplicate"] for b in duck["batches"]) > 0


@pytest.mark.parametrize("table", ["alumni", "alumni_current"])
def test_both_engines_write_the_same_curated_rows(lakes, table):
    duck, spark = (_without_ingest_time(curated(lakes[name][0], table)) for name in ENGINES)
    assert spark.schema == duck.schema
    assert spark.num_rows == duck.num_rows > 0
    assert spark.equals(duck)


def test_both_engines_quarantine_the_same_rows_with_the_same_reasons(lakes):
    from campuslake.lake.zones import quarantine_rows_path

    loaded = [b for b in lakes["duckdb"][1]["batches"] if b["rows_quarantined"]]
    assert loaded
    codes = {code for b in loaded
             for code in pq.read_table(lakes["duckdb"][0] / quarantine_rows_path("alumni", b["batch_id"]))
             .column("_reason_codes").to_pylist()}
    assert READER_FAULTS <= codes
    for batch in loaded:
        relative = quarantine_rows_path("alumni", batch["batch_id"])
        duck, spark = (pq.read_table(lakes[name][0] / relative).drop_columns(["_ingested_at"])
                       for name in ENGINES)
        assert spark.column_names == duck.column_names
        assert spark.to_pylist() == duck.to_pylist()


def test_report_with_the_engine_option_gives_the_same_answers(lakes):
    duck = run_cli(lakes["duckdb"][0], "report", "alumni", "--json").json()
    spark = run_cli(lakes["spark"][0], "--engine", "spark", "report", "alumni", "--json",
                    env={"SPARK_LOCAL_IP": "127.0.0.1"}).json()
    assert spark == duck
    assert duck["alumni"] == curated(lakes["duckdb"][0], "alumni_current").num_rows
