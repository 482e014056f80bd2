"""Quarantine zone: rejected rows (raw cells + reasons) and rejected files, listed and exported."""

from __future__ import annotations

import csv
import json
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from campuslake.errors import UsageError
from campuslake.lake.lake import Lake
from campuslake.lake.zones import quarantine_file_path, quarantine_rows_path

# Columns a quarantine export adds after the original ones; re-ingest recognizes and drops them.
EXPORT_REASON_CODES = "campuslake_reason_codes"
EXPORT_REASON = "campuslake_reason"
EXPORT_ORIGIN = "campuslake_origin"
EXPORT_RAW_LINE = "campuslake_raw_line"
EXPORT_COLUMNS = (EXPORT_REASON_CODES, EXPORT_REASON, EXPORT_ORIGIN, EXPORT_RAW_LINE)
HEADER_METADATA_KEY = b"campuslake.source_header"


class QuarantineRowsWriter:
    """A batch's quarantined rows, written to quarantine/ as they come (a file read in slices
    brings them slice after slice) and indexed once the batch is done: `close`, or `abort`,
    which leaves nothing behind."""

    def __init__(self, lake: Lake, dataset: str, batch_id: str, header: list[str]) -> None:
        self._lake, self._dataset, self._batch_id, self._header = lake, dataset, batch_id, header
        self.path = quarantine_rows_path(dataset, batch_id)
        self.rows = 0
        self.reason_counts: Counter[str] = Counter()
        self._files = ExitStack()
        self._writer: pq.ParquetWriter | None = None

    def write(self, rows: pa.RecordBatchReader, reason_counts: dict[str, int]) -> None:
        schema = rows.schema.with_metadata({HEADER_METADATA_KEY: json.dumps(self._header).encode()})
        if self._writer is None:
            out = self._files.enter_context(self._lake.storage.open_output(self.path))
            self._writer = self._files.enter_context(pq.ParquetWriter(out, schema, compression="zstd"))
        for batch in rows:
            self.rows += batch.num_rows
            self._writer.write_batch(batch.replace_schema_metadata(schema.metadata))
        self.reason_counts.update(reason_counts)

    def close(self) -> None:
        """Finish the file and index it (when any row was written)."""
        if self._writer is None:
            return
        self._files.close()
        self._lake.catalog.index_quarantine(batch_id=self._batch_id, dataset=self._dataset, kind="rows",
                                            path=self.path, rows=self.rows, reason_counts=dict(self.reason_counts))

    def abort(self) -> None:
        """Drop what was written: the file never appears under its name, nothing is indexed."""
        if self._writer is None:
            return
        abandoned = RuntimeError("quarantine rows abandoned")
        self._files.__exit__(type(abandoned), abandoned, None)
        self._writer = None
        if not self._lake.storage.is_local:  # an object store keeps what the stream had sent
            self._lake.storage.delete(self.path)


def quarantine_file(lake: Lake, dataset: str, batch: dict[str, Any], reason: str, source: str) -> str:
    """Keep a rejected file byte for byte next to its reason."""
    path = quarantine_file_path(dataset, batch["sha256"], batch["file_name"])
    with lake.storage.open_input(source) as stream, lake.storage.open_output(path) as out:
        while chunk := stream.read(8 << 20):
            out.write(chunk)
    lake.catalog.index_quarantine(batch_id=batch["batch_id"], dataset=dataset, kind="file", path=path,
                                  rows=0, reason_counts={reason: 1})
    return path


def list_quarantine(lake: Lake, dataset: str | None = None) -> list[dict[str, Any]]:
    replays = lake.catalog.replays()
    return [{
        "batch_id": entry["batch_id"],
        "dataset": entry["dataset"],
        "file": entry["file_name"],
        "kind": entry["kind"],
        "rows": entry["rows"],
        "reasons": entry["reason_counts"],
        "message": entry["message"],
        "path": lake.storage.uri(entry["path"]),
        "replayed_by": replays.get(entry["batch_id"], []),
    } for entry in lake.catalog.quarantine_entries(dataset)]


def read_quarantine_rows(lake: Lake, batch_id: str) -> pa.Table:
    return lake.storage.read_parquet(_rows_entry(lake, batch_id)["path"])


def _rows_entry(lake: Lake, batch_id: str) -> dict[str, Any]:
    """The quarantine index entry of a batch with rejected rows (a usage error otherwise)."""
    entry = lake.catalog.quarantine_entry(batch_id)
    if entry is None:
        raise UsageError(f"batch {batch_id} has nothing in quarantine; see `campuslake quarantine list`")
    if entry["kind"] != "rows":
        raise UsageError(f"batch {batch_id} was rejected as a whole file; its bytes are at "
                         f"{lake.storage.uri(entry['path'])}")
    return entry


def export_quarantine(lake: Lake, batch_id: str, out: Path) -> tuple[int, str]:
    """Write the batch's rejected rows as CSV in their original columns plus reason columns;
    returns how many rows and the batch's dataset.

    Fix the values, then ingest the file again: the reason columns are ignored on the way in,
    and the new batch records which batch it replays.
    """
    entry = _rows_entry(lake, batch_id)
    table, dataset = lake.storage.read_parquet(entry["path"]), entry["dataset"]
    header = json.loads(table.schema.metadata[HEADER_METADATA_KEY])
    data = {name: table.column(name).to_pylist() for name in header}
    codes = table.column("_reason_codes").to_pylist()
    messages = table.column("_reason").to_pylist()
    files = table.column("_source_file").to_pylist()
    lines = table.column("_source_line").to_pylist()
    raw_lines = table.column("_raw_line").to_pylist()
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*header, *EXPORT_COLUMNS])
        for i in range(table.num_rows):
            origin = f"{batch_id}:{files[i]}:{lines[i]}"
            writer.writerow([*(data[h][i] for h in header), codes[i], messages[i], origin, raw_lines[i]])
    return table.num_rows, dataset
