"""Landing several files at once: content decides the batch, order and duplicates are kept."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import campuslake
from campuslake.ingest.landing import land_files


def test_files_land_in_order_and_the_same_bytes_twice_is_one_batch(tmp_path: Path) -> None:
    lake = campuslake.Lake.open(campuslake.load_settings(lake=str(tmp_path / "lake")))
    texts = [b"Employee_ID\n1\n", b"Employee_ID\n2\n", b"Employee_ID\n1\n"]
    paths = []
    for i, text in enumerate(texts):
        paths.append(tmp_path / f"export_{i}.csv")
        paths[-1].write_bytes(text)
    landed = list(land_files(lake, "alumni", paths))
    assert [r.file for r in landed] == [str(p) for p in paths]
    assert [r.sha256 for r in landed] == [hashlib.sha256(t).hexdigest() for t in texts]
    assert [r.status for r in landed] == ["new", "new", "duplicate"]
    assert [b["file_name"] for b in lake.catalog.batches("alumni")] == ["export_0.csv", "export_1.csv"]
    lake.close()


def test_a_missing_file_lands_nothing(tmp_path: Path) -> None:
    lake = campuslake.Lake.open(campuslake.load_settings(lake=str(tmp_path / "lake")))
    present = tmp_path / "export.csv"
    present.write_bytes(b"Employee_ID\n1\n")
    with pytest.raises(campuslake.UsageError, match="not a file"):
        list(land_files(lake, "alumni", [present, tmp_path / "missing.csv"]))
    assert lake.catalog.batches("alumni") == []
    lake.close()
