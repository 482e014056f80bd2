"""Exactly-once: ingestion order does not matter, and a run killed mid-load loses and duplicates nothing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from deltalake import DeltaTable

from conftest import CLI, AnswerKey, curated, fix_a_quarantined_batch, run_cli

CLEAN_COLUMNS = ["employee_id", "employee_name", "college_degree", "department", "job_role", "campus",
                 "email", "phone", "performance_rating", "submission_date"]


@pytest.fixture(scope="module")
def v2_exports(tmp_path_factory) -> tuple[list[Path], AnswerKey]:
    """Form v2 only: every row has a submission date, so 'latest' never depends on ingest time."""
    from campuslake.synth import generate_alumni

    manifest = generate_alumni(tmp_path_factory.mktemp("v2"), rows=3000, files=4, seed=5, schema="v2",
                               bad_rate=0.03, dup_rate=0.03, repeat_rate=0.2, file_mess=True,
                               bad_files=False)
    return list(manifest.files), AnswerKey(manifest.answer_key_dir)


def _rows_by_origin(lake: Path, table: str) -> dict[tuple[str, int], dict]:
    return {(r["_source_file"], r["_source_line"]): {c: r[c] for c in CLEAN_COLUMNS + ["_batch_id"]}
            for r in curated(lake, table).to_pylist()}


def _ingest_one_by_one(lake: Path, files: list[Path]) -> None:
    for path in files:
        run_cli(lake, "ingest", "alumni", str(path), check=True)
        run_cli(lake, "run", check=True)


@pytest.fixture(scope="module")
def in_file_order(v2_exports, tmp_path_factory) -> Path:
    """Oldest export first, one ingest and one run per file."""
    lake = tmp_path_factory.mktemp("in_order") / "lake"
    _ingest_one_by_one(lake, v2_exports[0])
    return lake


@pytest.mark.parametrize("arrival", ["reversed_in_one_run", "shuffled_one_by_one"])
def test_current_rows_do_not_depend_on_ingestion_order(v2_exports, in_file_order, tmp_path, arrival):
    files, key = v2_exports
    lake = tmp_path / "lake"
    if arrival == "reversed_in_one_run":
        run_cli(lake, "ingest", "alumni", *map(str, reversed(files)), check=True)
        run_cli(lake, "run", check=True)
    else:
        shuffled = files[:]
        random.Random(7).shuffle(shuffled)
        assert shuffled != files
        _ingest_one_by_one(lake, shuffled)
    assert _rows_by_origin(lake, "alumni_current") == _rows_by_origin(in_file_order, "alumni_current")
    assert _rows_by_origin(lake, "alumni") == _rows_by_origin(in_file_order, "alumni")
    expected = {r["employee_id"]: {c: r[c] for c in CLEAN_COLUMNS} for r in key.current.to_pylist()}
    got = {r["employee_id"]: {c: r[c] for c in CLEAN_COLUMNS} for r in curated(lake, "alumni_current").to_pylist()}
    assert got == expected


@pytest.mark.slow
def test_a_run_killed_mid_load_and_run_again_loses_and_duplicates_nothing(tmp_path):
    from campuslake.synth import generate_alumni

    manifest = generate_alumni(tmp_path / "exports", rows=120_000, files=6, seed=9, schema="mixed",
                               file_mess=False, bad_files=False)
    key = AnswerKey(manifest.answer_key_dir)
    lake = tmp_path / "lake"
    run_cli(lake, "ingest", "alumni", *map(str, manifest.files), check=True)
    log = lake / "curated" / "alumni" / "_delta_log"

    # Kill the run (SIGKILL: no cleanup code runs) as soon as two batches are committed to Delta.
    process = subprocess.Popen([*CLI, "--lake", str(lake), "run"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if log.exists() and len(list(log.glob("*.json"))) >= 2:
            os.killpg(process.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert DeltaTable(str(lake / "curated" / "alumni")).version() >= 1
    pending = [b for b in run_cli(lake, "batches", "--json").json() if b["status"] == "pending"]
    assert pending, "the killed run must leave its batches pending"

    result = run_cli(lake, "run", "--json").json()
    assert {b["status"] for b in result["batches"]} == {"loaded"}
    alumni = curated(lake, "alumni")
    origins = list(zip(alumni["_source_file"].to_pylist(), alumni["_source_line"].to_pylist(), strict=True))
    assert len(origins) == len(set(origins)), "a row was loaded twice"
    assert alumni.num_rows == manifest.rows_valid
    current = {r["employee_id"]: {c: r[c] for c in CLEAN_COLUMNS} for r in curated(lake, "alumni_current").to_pylist()}
    assert current == {r["employee_id"]: {c: r[c] for c in CLEAN_COLUMNS} for r in key.current.to_pylist()}
    assert not any(p.is_file() for p in (lake / "landing").rglob("*"))


def test_fixed_quarantine_rows_come_back_with_lineage_to_the_fix(v2_exports, tmp_path):
    files, _key = v2_exports
    lake = tmp_path / "lake"
    run_cli(lake, "ingest", "alumni", *map(str, files), check=True)
    run_cli(lake, "run", check=True)
    entry, _fixed, fixable = fix_a_quarantined_batch(run_cli, lake, tmp_path)
    result = run_cli(lake, "run", "--json").json()
    assert result["batches"][0]["rows_valid"] == fixable
    assert result["batches"][0]["warnings"] == []
    replayed = [r for r in curated(lake, "alumni").to_pylist() if r["_source_file"] == "fixed.csv"]
    assert sorted(r["_source_line"] for r in replayed) == list(range(2, fixable + 2))
    assert {r["performance_rating"] for r in replayed} == {4}
    listed = {e["batch_id"]: e for e in run_cli(lake, "quarantine", "list", "--json").json()}
    assert listed[entry["batch_id"]]["replayed_by"] == [result["batches"][0]["batch_id"]]


@pytest.mark.parametrize("runs", [1, 2])
def test_current_is_the_same_when_a_long_run_reduces_its_rows_as_it_goes(messy_exports, tmp_path, monkeypatch, runs):
    """Runs fold their rows' ranking as they go; a second run folds onto the current table."""
    import campuslake
    from campuslake import pipeline

    monkeypatch.setattr(pipeline, "REDUCE_EVERY_ROWS", 500)  # reduce after almost every batch
    files, key = messy_exports
    lake = campuslake.Lake.open(campuslake.load_settings(lake=str(tmp_path / "lake")))
    half = len(files) // 2 if runs == 2 else len(files)
    for part in (files[:half], files[half:]):
        for path in part:
            campuslake.land_file(lake, "alumni", path)
        campuslake.run_pending(lake, "alumni")
    lake.close()
    got = {r["employee_id"]: {c: r[c] for c in CLEAN_COLUMNS}
           for r in curated(tmp_path / "lake", "alumni_current").to_pylist()}
    assert got == {r["employee_id"]: {c: r[c] for c in CLEAN_COLUMNS} for r in key.current.to_pylist()}


def test_a_failing_run_stops_parsing_the_files_after_it(v2_exports, tmp_path, monkeypatch):
    """Files are parsed ahead of the engine; when a batch fails, the files still queued are not
    parsed (a long backlog would otherwise be read through before the error is reported), and
    every batch stays pending for the next run."""
    import threading

    import campuslake
    from campuslake import pipeline

    files, _key = v2_exports
    lake = campuslake.Lake.open(campuslake.load_settings(lake=str(tmp_path / "lake")))
    for path in files:
        campuslake.land_file(lake, "alumni", path)
    parsed, second_started, failed = [], threading.Event(), threading.Event()
    real_parse = pipeline.BatchProcessor.parse

    def parse(self, batch, ready=None):
        parsed.append(batch["file_name"])
        if len(parsed) > 1:  # the file being parsed when the first batch fails finishes parsing
            second_started.set()
            assert failed.wait(60)
        return real_parse(self, batch, ready)

    def finish(self, parsed_batch, engine=None, sliced=None):
        assert second_started.wait(60)  # the batch fails while the next file is being parsed
        failed.set()
        raise RuntimeError("the engine failed")

    monkeypatch.setattr(pipeline.BatchProcessor, "parse", parse)
    monkeypatch.setattr(pipeline.BatchProcessor, "finish", finish)
    with pytest.raises(RuntimeError, match="the engine failed"):
        campuslake.run_pending(lake, "alumni")
    assert len(parsed) == 2, parsed  # the first file, and the one in progress when it failed
    assert [r["status"] for r in lake.catalog.runs("alumni")] == ["failed"]
    assert {b["status"] for b in lake.catalog.batches("alumni")} == {"pending"}
    lake.close()


def test_batches_from_memory_and_from_the_raw_zone_give_the_same_tables(v2_exports, in_file_order, tmp_path,
                                                                       monkeypatch):
    """A file the memory budget cannot hold is read back from the raw zone. One engine that gets
    both kinds, one after the other, gives the tables a run from memory gives."""
    import campuslake
    from campuslake import pipeline
    from campuslake.engines import get_engine

    files, _key = v2_exports
    lake = campuslake.Lake.open(campuslake.load_settings(lake=str(tmp_path / "lake")))
    for path in files:
        campuslake.land_file(lake, "alumni", path)
    turns = iter(range(10_000))
    monkeypatch.setattr(pipeline.HeldBytes, "take", lambda self, nbytes: next(turns) % 2 == 0)
    engine = get_engine("duckdb", threads=1)  # one engine: it loads every batch
    try:
        result = campuslake.run_pending(lake, "alumni", engine=engine)
    finally:
        engine.close()
    lake.close()
    assert len(result.batches) == len(files) > 2
    assert _rows_by_origin(tmp_path / "lake", "alumni") == _rows_by_origin(in_file_order, "alumni")
    assert _rows_by_origin(tmp_path / "lake", "alumni_current") == _rows_by_origin(in_file_order, "alumni_current")
