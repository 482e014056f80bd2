"""Large files are read in slices: the same accounting and tables as the answer key, and a file
that turns out unreadable past its first slices is rejected whole, leaving nothing behind."""

from __future__ import annotations

import collections
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

import campuslake
from campuslake import pipeline
from campuslake.ingest import csv_source
from campuslake.lake.zones import quarantine_rows_path, raw_dir
from campuslake.validate.quarantine import read_quarantine_rows
from conftest import AnswerKey, curated

CLEAN_COLUMNS = ["employee_id", "employee_name", "college_degree", "department", "job_role", "campus",
                 "email", "phone", "performance_rating", "submission_date"]


@pytest.fixture
def in_slices(monkeypatch) -> None:
    """Every file streams through the raw zone, in parts of a few hundred rows (read 4 KiB at a time)."""
    monkeypatch.setattr(pipeline, "SMALL_FILE_BYTES", 0)
    monkeypatch.setattr(pipeline, "SLICE_ROWS", 97)
    monkeypatch.setattr(csv_source, "CHUNK_BYTES", 4096)


def _run(lake_dir: Path, files: list[Path], progress: pipeline.ProgressCallback | None = None,
         ) -> tuple[campuslake.Lake, pipeline.RunResult]:
    lake = campuslake.Lake.open(campuslake.load_settings(lake=str(lake_dir)))
    for path in files:
        campuslake.land_file(lake, "alumni", path)
    return lake, campuslake.run_pending(lake, "alumni", progress=progress)


def _part_of_line(lake: campuslake.Lake, batch_id: str) -> dict[int, int]:
    """source line -> the raw part it was read in"""
    parts = lake.storage.list_files(raw_dir("alumni", batch_id))
    return {line: index for index, part in enumerate(parts)
            for line in pq.read_table(lake.storage.path(part), columns=["_source_line"])["_source_line"].to_pylist()}


def test_a_file_read_in_slices_is_accounted_and_loaded_as_the_answer_key_says(messy_exports, tmp_path, in_slices):
    files, key = messy_exports
    shown: list[str] = []
    lake, result = _run(tmp_path / "lake", files, lambda description, done, total: shown.append(description))
    try:
        got = {b.file: b for b in result.batches}
        for want in key.files:
            batch = got[want["file"]]
            for field in ("status", "reason", "rows_in", "rows_valid", "rows_quarantined", "rows_duplicate"):
                assert getattr(batch, field) == want[field], f"{want['file']}: {field}"
        loaded = [b for b in result.batches if b.status == "loaded"]
        parts = {b.batch_id: _part_of_line(lake, b.batch_id) for b in loaded}
        assert all(len(set(lines.values())) > 3 for lines in parts.values())
        # a long file shows its progress slice by slice, not only once it is done
        assert any(d.startswith(f"{loaded[0].file}: ") and d.endswith(" rows") for d in shown), shown

        # duplicates of a row read in an earlier slice were found: the key's duplicate rows whose
        # first copy is in another part
        rows = key.rows.to_pylist()
        first_copy: dict[tuple, int] = {}
        straddling = 0
        batch_of_file = {b.file: b.batch_id for b in loaded}
        for row in sorted(rows, key=lambda r: (r["file"], r["line"])):
            if row["status"] not in ("valid", "duplicate") or row["file"] not in batch_of_file:
                continue
            values = (row["file"], *(row[c] for c in CLEAN_COLUMNS))
            if row["status"] == "valid":
                first_copy.setdefault(values, row["line"])
            elif values in first_copy:
                lines = parts[batch_of_file[row["file"]]]
                straddling += lines[first_copy[values]] != lines[row["line"]]
        assert straddling > 10

        alumni = {(r["_source_file"], r["_source_line"]): {c: r[c] for c in CLEAN_COLUMNS}
                  for r in curated(tmp_path / "lake", "alumni").to_pylist()}
        expected = {(r["file"], r["line"]): {c: r[c] for c in CLEAN_COLUMNS} for r in rows if r["status"] == "valid"}
        assert alumni == expected
        current = {r["employee_id"]: {c: r[c] for c in CLEAN_COLUMNS}
                   for r in curated(tmp_path / "lake", "alumni_current").to_pylist()}
        assert current == {r["employee_id"]: {c: r[c] for c in CLEAN_COLUMNS} for r in key.current.to_pylist()}

        # each batch's quarantined rows, from every slice, in one place, in line order
        quarantined = collections.defaultdict(list)
        for row in rows:
            if row["status"] == "quarantined":
                quarantined[row["file"]].append(row["line"])
        for batch in loaded:
            if batch.rows_quarantined:
                table = read_quarantine_rows(lake, batch.batch_id)
                assert table["_source_line"].to_pylist() == sorted(quarantined[batch.file])
    finally:
        lake.close()


def _utf16_with_a_fault(source: Path, out: Path, at_row: int) -> int:
    """`source` in UTF-16 with a lone surrogate starting row `at_row`; returns that row's line."""
    lines = source.read_text("utf-8").splitlines(keepends=True)
    head = "".join(lines[:at_row + 1])  # the header and `at_row` rows
    out.write_bytes(head.encode("utf-16") + b"\x00\xd8" + "".join(lines[at_row + 1:]).encode("utf-16-le"))
    return at_row + 2


def test_a_file_unreadable_past_its_first_slices_is_rejected_whole(tmp_path, in_slices, monkeypatch):
    from campuslake.synth import generate_alumni

    manifest = generate_alumni(tmp_path / "exports", rows=2400, files=2, seed=11, schema="v2",
                               bad_rate=0.02, dup_rate=0.02, file_mess=False, bad_files=False)
    good, source = manifest.files
    damaged = tmp_path / "damaged.csv"
    bad_line = _utf16_with_a_fault(source, damaged, at_row=1000)
    loaded_slices: collections.Counter[str] = collections.Counter()
    load_slice = pipeline.BatchProcessor._load_slice

    def counting(self, engine, batch, *args):
        loaded_slices[batch["file_name"]] += 1
        return load_slice(self, engine, batch, *args)

    monkeypatch.setattr(pipeline.BatchProcessor, "_load_slice", counting)
    lake, result = _run(tmp_path / "lake", [good, damaged])
    try:
        outcome = {b.file: b for b in result.batches}
        assert outcome[good.name].status == "loaded"
        rejected = outcome[damaged.name]
        assert (rejected.status, rejected.reason) == ("rejected", "bad_encoding")
        assert f"(line {bad_line})" in rejected.message and rejected.rows_in == 0
        assert loaded_slices[damaged.name] >= 5  # the slices before the fault were loaded, then undone

        key = AnswerKey(manifest.answer_key_dir)
        alumni = curated(tmp_path / "lake", "alumni")
        assert set(alumni["_source_file"].to_pylist()) == {good.name}
        assert alumni.num_rows == next(f["rows_valid"] for f in key.files if f["file"] == good.name)
        table_dir = tmp_path / "lake" / "curated" / "alumni"
        committed = {Path(uri).name for uri in DeltaTable(str(table_dir)).file_uris()}
        assert {p.name for p in table_dir.glob("*.parquet")} == committed  # no file of the rejected slices
        assert lake.storage.list_files(raw_dir("alumni", rejected.batch_id)) == []
        assert not lake.storage.exists(quarantine_rows_path("alumni", rejected.batch_id))  # its slices had some

        entry = lake.catalog.quarantine_entry(rejected.batch_id)
        assert entry is not None and entry["kind"] == "file" and entry["reason_counts"] == {"bad_encoding": 1}
        assert (tmp_path / "lake" / entry["path"]).read_bytes() == damaged.read_bytes()
        current = curated(tmp_path / "lake", "alumni_current")
        assert set(current["_source_file"].to_pylist()) == {good.name}
    finally:
        lake.close()
