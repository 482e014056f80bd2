"""Curated tables in Delta Lake (deltalake): idempotent per-batch writes and Arrow datasets to read."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, Schema
from deltalake.exceptions import TableNotFoundError
from deltalake.transaction import AddAction, RemoveAction, create_table_with_add_actions

from campuslake.errors import StorageError
from campuslake.lake.storage import LakeStorage
from campuslake.lake.zones import curated_table
from campuslake.sqltext import sql_literal

if TYPE_CHECKING:
    import pyarrow.dataset as pads

BATCH_COLUMN = "_batch_id"
# a plain file name: a Delta log path is a URI, and these need no escaping there
_DATA_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.parquet")


@dataclass
class _DataFile:
    """A Parquet file about to be committed: its add action and what the checks need."""

    path: str
    add: AddAction
    schema: Schema
    rows: int
    null_counts: dict[str, int]


class CuratedTables:
    """The lake's curated zone: one Delta table per name under `curated/`."""

    def __init__(self, storage: LakeStorage) -> None:
        self.storage = storage

    def uri(self, table: str) -> str:
        return self.storage.uri(curated_table(table))

    def open(self, table: str) -> DeltaTable | None:
        try:
            return DeltaTable(self.uri(table), storage_options=self.storage.storage_options())
        except TableNotFoundError:
            return None

    def exists(self, table: str) -> bool:
        return self.open(table) is not None

    def dataset(self, table: str) -> pads.Dataset | None:
        """The table's current version as an Arrow dataset (None when it does not exist yet)."""
        delta = self.open(table)
        return delta.to_pyarrow_dataset() if delta is not None else None

    def files(self, table: str) -> list[str] | None:
        """The lake-relative data files of the table's current version (None: no such table).
        campuslake's tables use no deletion vectors or column mapping, so the files are the rows."""
        delta = self.open(table)
        if delta is None:
            return None
        folder = curated_table(table)
        return [f"{folder}/{action['path']}" for action in pa.table(delta.get_add_actions()).to_pylist()]

    def version_and_rows(self, table: str) -> tuple[int | None, int | None]:
        delta = self.open(table)
        if delta is None:
            return None, None
        # From the log's statistics: no file opened, and no pyarrow.dataset import (~0.3 s of a run)
        counts = pa.table(delta.get_add_actions()).column("num_records").to_pylist()
        if None in counts:  # a file written without statistics
            return delta.version(), delta.to_pyarrow_dataset().count_rows()
        return delta.version(), sum(counts)

    def new_data_file(self, table: str) -> str:
        """A fresh lake-relative path in the table's folder for a Parquet file to commit_files()."""
        self.storage.make_dirs(curated_table(table))  # so any writer can create the file on local disk
        return f"{curated_table(table)}/part-{uuid.uuid4().hex}.parquet"

    def commit_files(self, table: str, files: list[str], *, replace_batch: str | None = None,
                     overwrite: bool = False, metadata: dict[str, str]) -> int | None:
        """Commit Parquet files already written in the table's folder as one Delta transaction.

        Creates the table (schema of the first file) when it does not exist. `replace_batch`: the
        same commit removes every file holding only that batch's rows, so running a batch again
        replaces its rows instead of duplicating them. `overwrite`: the files replace the whole
        table, whose schema may change. Every file must have the table's columns and types.
        Files without rows are not added (each run of an all-quarantined batch would leave one
        more in the log, owned by no batch) and are deleted after the commit. Returns the new
        version, or None when there was nothing to commit (no files and no table).
        """
        if overwrite and replace_batch is not None:
            raise ValueError("commit_files takes replace_batch or overwrite, not both")
        found = [self._describe(table, path) for path in files]
        delta = self.open(table)
        if delta is None and not found:
            return None
        if delta is not None and delta.metadata().partition_columns:
            raise ValueError(f"curated table {table} is partitioned; commit_files writes unpartitioned tables")
        # a new or overwritten table takes the files' schema; otherwise the files must fit the table's
        schema = found[0].schema if delta is None or (overwrite and found) else delta.schema()
        for item in found:
            _check_schema(item, schema)
        adds = [item.add for item in found if item.rows]
        properties = CommitProperties(custom_metadata=metadata)
        if delta is None or (overwrite and schema.to_json() != delta.schema().to_json()):
            # CREATE (OR REPLACE) also sets the protocol features the schema needs, which an overwrite
            # commit cannot (e.g. timestamp_ntz); replacing gives the table a new id, history is kept
            previous = delta.metadata() if delta is not None else None
            create_table_with_add_actions(
                self.uri(table), schema, adds, mode="error" if previous is None else "overwrite",
                name=previous.name if previous else None,
                description=previous.description if previous else None,
                configuration=previous.configuration if previous else None,
                storage_options=self.storage.storage_options(), commit_properties=properties)
            delta = self.open(table)
            assert delta is not None
        elif overwrite:
            delta.create_write_transaction(adds, mode="overwrite", schema=schema, commit_properties=properties)
        else:
            removes = self._batch_files(delta, replace_batch, properties) if replace_batch is not None else []
            delta.create_write_transaction([*adds, *removes], mode="append", schema=schema,
                                           commit_properties=properties)
        for item in found:
            if not item.rows:
                self.storage.delete(item.path)
        delta.update_incremental()  # a commit does not move the object's version
        return delta.version()

    def _describe(self, table: str, path: str) -> _DataFile:
        folder = curated_table(table) + "/"
        name = path.removeprefix(folder)
        if name == path or not _DATA_FILE_NAME.fullmatch(name):
            raise ValueError(f"{path} is not a data file of curated table {table} (see new_data_file)")
        location = self.storage.path(path)
        info = self.storage.fs.get_file_info(location)
        if info.type != pafs.FileType.File:
            raise StorageError(f"cannot commit {path}: no such file", lake=self.storage.root_uri)
        with self.storage.fs.open_input_file(location) as source:
            parquet = pq.ParquetFile(source)
            arrow_schema, footer = parquet.schema_arrow, parquet.metadata
        # Every column nullable: writers mark a constant column NOT NULL (DuckDB does), which would
        # make one file's accident the table's constraint.
        arrow_schema = pa.schema([field.with_nullable(True) for field in arrow_schema])
        try:
            schema = Schema.from_arrow(arrow_schema)
        except Exception as exc:  # deltalake raises a bare Exception for types Delta cannot hold
            raise ValueError(f"{path}: {str(exc).splitlines()[0]}") from exc
        stats = _delta_stats(footer, arrow_schema)
        modified = info.mtime_ns // 1_000_000 if info.mtime_ns else int(time.time() * 1000)
        add = AddAction(path=name, size=info.size, partition_values={}, modification_time=modified,
                        data_change=True, stats=json.dumps(stats, separators=(",", ":")))
        return _DataFile(path, add, schema, footer.num_rows, stats["nullCount"])

    def _batch_files(self, delta: DeltaTable, batch_id: str, properties: CommitProperties) -> list[RemoveAction]:
        """Remove actions for the files whose rows all belong to `batch_id`, told by their stats."""
        if BATCH_COLUMN not in [field.name for field in delta.schema().fields]:
            raise ValueError(f"replace_batch needs a {BATCH_COLUMN} column")
        whole, mixed = [], False
        for action in pa.table(delta.get_add_actions(flatten=True)).to_pylist():
            rows, nulls = action.get("num_records"), action.get(f"null_count.{BATCH_COLUMN}")
            low, high = action.get(f"min.{BATCH_COLUMN}"), action.get(f"max.{BATCH_COLUMN}")
            if rows == 0 or (rows is not None and nulls == rows):
                continue  # no row of any batch
            if low == high == batch_id and nulls == 0:
                whole.append(action)
            elif low is None or high is None or low <= batch_id <= high:
                mixed = True
        if mixed:
            # A file that may hold this batch's rows beside others' (never one written for a single
            # batch; or one without stats for the column) cannot be removed whole: delete the batch's
            # rows by predicate, which rewrites such files. That is a commit of its own, so here
            # replacing the batch takes two commits and a reader in between sees the batch missing.
            delta.delete(f"{BATCH_COLUMN} = {sql_literal(batch_id)}", commit_properties=properties)
            delta.update_incremental()
            return []
        now = int(time.time() * 1000)
        return [RemoveAction(path=action["path"], data_change=True, deletion_timestamp=now,
                             size=action["size_bytes"], partition_values={}) for action in whole]


def _check_schema(item: _DataFile, schema: Schema) -> None:
    """deltalake commits any file as is: one with other columns or types would break readers."""
    expected = {field.name: field for field in schema.fields}
    found = {field.name: field.type for field in item.schema.fields}
    if found.keys() != expected.keys() or any(found[name] != field.type for name, field in expected.items()):
        raise ValueError(f"{item.path} does not have the table's columns and types: "
                         f"{item.schema.to_json()} is not {schema.to_json()}")
    if any(not field.nullable and item.null_counts.get(name) != 0 for name, field in expected.items()):
        raise ValueError(f"{item.path} may hold nulls in a column the table declares not null")


def _delta_stats(footer: pq.FileMetaData, schema: pa.Schema) -> dict[str, object]:
    """Delta file statistics from a Parquet footer, in the form delta-rs writes them.

    Bounds for string, signed integer, date and timestamp columns; other columns get a null count
    only (Delta statistics are optional per column, a reader then just cannot skip on them).
    """
    columns = {footer.schema.column(j).path: j for j in range(footer.num_columns)}
    groups = [footer.row_group(g) for g in range(footer.num_row_groups)]
    low: dict[str, object] = {}
    high: dict[str, object] = {}
    nulls: dict[str, int] = {}
    for field in schema:
        if field.name not in columns:
            continue  # a nested column: no statistics
        chunks = [(group.column(columns[field.name]).statistics, group.num_rows) for group in groups]
        if all(stats is not None and stats.has_null_count for stats, _ in chunks):
            nulls[field.name] = sum(stats.null_count for stats, _ in chunks)
        bounds = _bounds(chunks, _stat_json(field.type))
        if bounds is not None:
            low[field.name], high[field.name] = bounds
    return {"numRecords": footer.num_rows, "minValues": low, "maxValues": high, "nullCount": nulls}


def _bounds(chunks: list[tuple[pq.Statistics | None, int]],
            to_json: Callable[[object], object] | None) -> tuple[object, object] | None:
    """(min, max) over the row groups, or None when a group with values has no bounds."""
    if to_json is None:
        return None
    values = []
    try:
        for stats, rows in chunks:
            if stats is not None and stats.has_null_count and stats.null_count == rows:
                continue  # only nulls here: nothing to bound
            if stats is None or not stats.has_min_max:
                return None
            values += [stats.min, stats.max]
        return (to_json(min(values)), to_json(max(values))) if values else None
    except (ValueError, OverflowError):  # undecodable or out-of-range bounds: leave them out
        return None


def _stat_json(kind: pa.DataType) -> Callable[[object], object] | None:
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return str
    if pa.types.is_signed_integer(kind):
        return int
    if pa.types.is_date32(kind):
        return dt.date.isoformat  # type: ignore[return-value]
    if pa.types.is_timestamp(kind) and kind.unit in ("ms", "us"):
        return partial(_timestamp_json, utc=kind.tz is not None)  # type: ignore[return-value]
    return None


def _timestamp_json(value: dt.datetime, utc: bool) -> str:
    """As delta-rs writes timestamp bounds: truncated to milliseconds (its readers widen the max
    by 1 ms), `...Z` for timestamp and `YYYY-MM-DD HH:MM:SS.fff` for timestamp_ntz."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text + "Z" if utc else text.replace("T", " ")
