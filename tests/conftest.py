"""Shared fixtures: the real CLI in a subprocess, generated exports with their answer key."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

CLI = [sys.executable, "-m", "campuslake.cli"]


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.code == 0, f"exit {self.code}: {self.stderr}"
        return json.loads(self.stdout)


def run_cli(lake: Path | str, *args: str, check: bool = False, env: dict[str, str] | None = None) -> CliResult:
    """Run `campuslake --lake LAKE ARGS...` as a user would, in its own process."""
    completed = subprocess.run([*CLI, "--lake", str(lake), *args], capture_output=True, text=True,
                               env={**os.environ, **(env or {})}, timeout=600)
    result = CliResult(completed.returncode, completed.stdout, completed.stderr)
    if check:
        assert result.code == 0, f"campuslake {' '.join(args)} -> exit {result.code}\n{result.stderr}"
    return result


@dataclass
class AnswerKey:
    """What the generator knows independently of the pipeline."""

    directory: Path

    @property
    def rows(self) -> pa.Table:
        return pq.read_table(self.directory / "rows.parquet")

    @property
    def current(self) -> pa.Table:
        return pq.read_table(self.directory / "current.parquet")

    @property
    def files(self) -> list[dict[str, Any]]:
        return json.loads((self.directory / "files.json").read_text("utf-8"))

    @property
    def layouts(self) -> list[dict[str, Any]]:
        return json.loads((self.directory / "layout.json").read_text("utf-8"))

    @property
    def answers(self) -> dict[str, Any]:
        return json.loads((self.directory / "answers.json").read_text("utf-8"))


def fix_a_quarantined_batch(cli: Callable[..., CliResult], lake: Any, folder: Path) -> tuple[dict[str, Any], Path, int]:
    """What a person fixing rejected rows does, through `cli(lake, *args)`: list the quarantine,
    export the first batch with out-of-range ratings, fix them (see fix_quarantined_ratings) and
    ingest the fix. Returns the quarantine entry, the fixed file and how many rows it holds."""
    exported, fixed = folder / "exported.csv", folder / "fixed.csv"
    for entry in (e for e in cli(lake, "quarantine", "list", "--json").json() if e["kind"] == "rows"):
        cli(lake, "quarantine", "export", entry["batch_id"], "--out", str(exported), check=True)
        fixable = fix_quarantined_ratings(exported, fixed)
        if fixable:
            cli(lake, "ingest", "alumni", str(fixed), check=True)
            return entry, fixed, fixable
    raise AssertionError("no batch holds out-of-range ratings to fix")


def fix_quarantined_ratings(exported: Path, fixed: Path) -> int:
    """Write the rows of a quarantine export whose only fault is an out-of-range rating to
    `fixed`, rating 4, in the export's columns (what a person fixing the file would do); returns
    how many (0: none, and nothing written)."""
    with exported.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, rows = reader.fieldnames or [], list(reader)
    rating = next(h for h in header if h.lower().replace(" ", "_") == "performance_rating")
    fixable = [{**r, rating: "4"} for r in rows if r["campuslake_reason_codes"] == "out_of_range"
               and "performance_rating" in r["campuslake_reason"]]
    if not fixable:
        return 0
    with fixed.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(fixable)
    return len(fixable)


def curated(lake: Path, table: str) -> pa.Table:
    """Read a curated Delta table directly (not through campuslake)."""
    return DeltaTable(str(lake / "curated" / table)).to_pyarrow_table()


@pytest.fixture(scope="session")
def messy_exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], AnswerKey]:
    """8 exports with every kind of file- and row-level mess, plus 3 files that must be rejected."""
    from campuslake.synth import generate_alumni

    out = tmp_path_factory.mktemp("exports")
    manifest = generate_alumni(out, rows=6000, files=8, seed=20261121, schema="mixed", bad_rate=0.06,
                               dup_rate=0.04, repeat_rate=0.12, file_mess=True, bad_files=True)
    return list(manifest.files), AnswerKey(manifest.answer_key_dir)


@pytest.fixture(scope="session")
def loaded_lake(tmp_path_factory: pytest.TempPathFactory, messy_exports: tuple[list[Path], AnswerKey]
                ) -> tuple[Path, dict[str, Any]]:
    """A lake that ingested the messy exports in file order (one CLI call) and ran once."""
    files, _key = messy_exports
    lake = tmp_path_factory.mktemp("lake") / "lake"
    run_cli(lake, "ingest", "alumni", *map(str, files), "--json", check=True)
    result = run_cli(lake, "run", "--json").json()
    return lake, result
