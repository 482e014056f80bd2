"""The main job: process every pending batch of a dataset from landing to curated, exactly once.

Per batch: parse (raw zone) -> validate and normalize (SQL) -> drop in-batch duplicates ->
quarantine bad rows -> replace the batch's rows in the curated Delta table. Then the dataset's
`_current` table takes the latest row per key, and only then does the ledger mark the batches
done. Every write is idempotent, so a run killed at any point and run again loses nothing and
duplicates nothing.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from campuslake.config import Contract
from campuslake.engines import Engine, get_engine
from campuslake.ingest.csv_source import (FLAGS_COLUMN, UTF8_WITH_FAULTS, FileRejected, SourceFormat,
                                        read_csv_source)
from campuslake.lake.archive import archive_landed_file
from campuslake.lake.catalog import utc_now
from campuslake.lake.delta import CuratedTables
from campuslake.lake.lake import Lake
from campuslake.lake.zones import archive_path, landing_dir, landing_path, raw_dir, raw_part_path
from campuslake.transform.dedup import (SEEN_TABLE, batch_status_sql, duplicate_lines_sql, earlier_slices_sql,
                                         latest_by_key_sql)
from campuslake.sqltext import sql_identifier, sql_literal
from campuslake.transform.normalize import phone_e164_python
from campuslake.validate.contract_sql import (classify_sql, phone_candidates_sql, prepared_positions,
                                               raw_cell_columns)
from campuslake.validate.headers import HeaderMatch, match_header, normalize_header
from campuslake.validate.quarantine import EXPORT_COLUMNS, EXPORT_ORIGIN, QuarantineRowsWriter, quarantine_file
from campuslake.validate.reasons import FileReason, RowReason

log = logging.getLogger(__name__)

LINEAGE_COLUMNS = ("_batch_id", "_source_file", "_source_line", "_ingested_at")
REDUCE_EVERY_ROWS = 2_000_000
"""run_rows is reduced to one row per key once it holds more rows than this"""
RAW_ROW_GROUP_ROWS = 16_384
"""raw Parquet row groups: the engine scans a file's row groups in parallel (one per thread), so a
batch of 100,000 rows in one group ran on one core (1.75 s against 0.92 s in groups of 32,768).
Groups of 32,768 still left a core idle for most of a 100,000-row batch's last round (3 full
groups and a sliver): the classify statement took 0.41-0.45 s on 2 threads, 0.37 s in groups
of this size."""
RAW_PARQUET: dict[str, Any] = {"compression": "zstd",
                               "use_dictionary": [c for c in LINEAGE_COLUMNS if c != "_source_line"],
                               "write_statistics": list(LINEAGE_COLUMNS)}
"""raw cells are mostly distinct: dictionaries cost write time (~25%) and saved no space, and
their statistics (~12% of the write) serve no reader; the lineage columns are constant"""
PARSED_HELD_BYTES = 256 << 20
"""parsed rows kept in memory for an engine that scans Arrow in place, across the files parsed
ahead: the engine then skips reading them back from the raw zone (docs/decisions.md)"""
SMALL_FILE_BYTES = 32 << 20
"""landed files up to this size (~220,000 rows of the alumni export) are small: their rows are
kept in memory for the engine and they are loaded side by side, one single-threaded engine each.
Larger ones stream through the raw zone and are loaded one at a time on all the engine's threads,
which a batch of that size keeps busy; side by side they only cost memory (docs/decisions.md)."""
SLICE_ROWS = 1 << 20
"""a file streamed through the raw zone is cut into parts of about this many rows, validated and
loaded one after the other while the parse goes on: the engine holds one part, never the whole
file, and starts on a large file before it is read through (docs/decisions.md)"""
ProgressCallback = Callable[[str, int, int], None]
"""progress(description, completed, total): called as batches move through the run"""


@dataclass
class BatchOutcome:
    batch_id: str
    file: str
    status: str  # loaded | rejected
    reason: str | None = None
    message: str | None = None
    rows_in: int = 0
    rows_valid: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    warnings: list[str] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)
    """what was detected about the file: encoding, delimiter, extra columns, blank lines, replay_of"""

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "source"}


@dataclass
class RunResult:
    run_id: str | None
    dataset: str
    batches: list[BatchOutcome]

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "dataset": self.dataset,
                "batches": [b.as_dict() for b in self.batches]}


def current_table(dataset: str) -> str:
    return f"{dataset}_current"


def present_column(header: str) -> str:
    """The raw zone's column holding a contract cell's present form (spaces collapsed, null
    tokens removed) where that differs from the cell: NULL = the cell as it is, '' = no value."""
    return f"_present_{header}"


class HeldBytes:
    """A byte budget for parsed rows kept in memory: the parse thread takes room while there is
    some; the room comes back once the engine and the raw writer have both let go of the rows."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held = 0
        self._lock = threading.Lock()

    def take(self, nbytes: int) -> bool:
        with self._lock:
            if self._held + nbytes > self.limit:
                return False
            self._held += nbytes
            return True

    def let_go(self, parsed: ParsedBatch, *, rows: bool = False, unwritten: bool = False) -> None:
        """Drop the engine's hold (`rows`) or the raw writer's (`unwritten`) on a batch's rows;
        its room is given back once neither holds them (they let go from different threads)."""
        with self._lock:
            if rows:
                parsed.rows = None
            if unwritten:
                parsed.unwritten = None
            if parsed.rows is None and parsed.unwritten is None:
                self._held -= parsed.held
                parsed.held = 0


@dataclass
class ParsedBatch:
    """A batch whose file is in the raw zone, ready for the engine, or rejected whole."""

    batch: dict[str, Any]
    source: str
    """the landed (or archived) file it was read from"""
    fmt: SourceFormat | None = None
    match: HeaderMatch | None = None
    rows_in: int = 0
    rejected: FileRejected | None = None
    rows: pa.Table | None = None
    """the raw file's rows, when they were kept in memory for the engine (`held` bytes of the budget)"""
    held: int = 0
    unwritten: pa.Table | None = None
    """rows kept in memory that write_raw has still to put in the raw zone"""
    schema: pa.Schema | None = None
    parts: queue.SimpleQueue[RawPart | BaseException] | None = None
    """rows streamed to the raw zone instead: its parts, handed over as each is written, or what
    stopped the parse (a FileRejected rejects the batch)"""


@dataclass(frozen=True)
class RawPart:
    """One part of a batch's rows in the raw zone."""

    path: str
    last: bool


class BatchProcessor:
    """Takes one pending batch of one dataset through parse, validate, dedup and load."""

    def __init__(self, lake: Lake, dataset: str, engine: Engine) -> None:
        self.lake = lake
        self.dataset = dataset
        self.contract: Contract = lake.settings.dataset(dataset)
        self.engine = engine
        self.curated = CuratedTables(lake.storage)
        self.held = HeldBytes(PARSED_HELD_BYTES if engine.scans_arrow_in_place else 0)
        self._shared = threading.Lock()
        """batches loaded side by side take turns at what they share: Delta commits, the catalog,
        this run's rows (folded on the run's engine)"""
        # this run's curated files not yet folded into engine table run_rows (see _collect_run_rows)
        self._run_files: list[str] = []
        self._run_file_rows = 0
        self._has_run_rows = False

    def parse(self, batch: dict[str, Any], ready: Future[ParsedBatch] | None = None) -> ParsedBatch:
        """Read the landed file: its rows are kept in memory for the engine (write_raw puts them
        in the raw zone afterwards) or, when the budget has no room, streamed to the raw zone.
        Touches neither the engines nor the catalog, so files are parsed while engines load others.

        `ready` gets the parsed batch as soon as the engine can start on it: once read, or, for
        rows streamed to the raw zone, when streaming starts (the engine then takes the parts
        as they are written).
        """
        try:
            parsed = self._parse(batch, ready)
        except BaseException as exc:
            _settle(ready, error=exc)
            raise
        _settle(ready, parsed)
        return parsed

    def _parse(self, batch: dict[str, Any], ready: Future[ParsedBatch] | None) -> ParsedBatch:
        parsed: ParsedBatch | None = None
        source = landing_path(self.dataset, batch["sha256"])
        if not self.lake.storage.exists(source):  # re-processing a settled batch: read the archive
            source = archive_path(self.dataset, batch["sha256"])
        try:
            fmt, rows = read_csv_source(self.lake.storage, source)
            match = match_header(fmt.written_header, self.contract)
            rows.prepare(prepared_positions(match), self.contract.null_tokens)
            if match.missing_required:
                found = ", ".join(fmt.header) or "none"
                raise FileRejected(FileReason.MISSING_REQUIRED_COLUMNS,
                                   f"required columns missing: {', '.join(match.missing_required)} "
                                   f"(header has: {found}); add them or map them with aliases in the contract",
                                   line=fmt.header_line)
            if match.ambiguous:
                raise FileRejected(FileReason.DUPLICATE_COLUMNS,
                                   f"columns mean the same contract column twice: {', '.join(match.ambiguous)}",
                                   line=fmt.header_line)
            parsed = ParsedBatch(batch, source, fmt, match)
            self._read_rows(parsed, iter(rows), lambda: _settle(ready, parsed))
        except FileRejected as rejected:
            if parsed is not None and parsed.parts is not None:  # handed over: the engine rejects it
                parsed.parts.put(rejected)
                return parsed
            return ParsedBatch(batch, source, rejected=rejected)
        except BaseException as exc:
            if parsed is not None and parsed.parts is not None:
                parsed.parts.put(exc)  # the engine waiting for the next part fails with it
            raise
        return parsed

    def finish(self, parsed: ParsedBatch, engine: Engine | None = None,
               sliced: Callable[[int], None] | None = None) -> BatchOutcome:
        """Validate, normalize, deduplicate and load a parsed batch (the engine's part), on
        `engine` (default: the run's engine; batches may be loaded side by side, each on its own).
        `sliced(rows)`: called after each slice but the last of a file read in slices, with the
        rows loaded so far."""
        if parsed.rejected is not None:
            with self._shared:
                return self._reject(parsed.batch, parsed.source, parsed.rejected)
        try:
            return self._finish(parsed, engine or self.engine, sliced)
        finally:
            self.held.let_go(parsed, rows=True)

    def _finish(self, parsed: ParsedBatch, engine: Engine, sliced: Callable[[int], None] | None) -> BatchOutcome:
        batch, fmt, match = parsed.batch, parsed.fmt, parsed.match
        assert fmt is not None and match is not None
        cells = [f"{sql_identifier(h)} AS c{j}" for j, h in enumerate(fmt.header)]
        cells += [f"{sql_identifier(present_column(fmt.header[j]))} AS q{j}" for j in prepared_positions(match)]
        # A fixed quarantine export carries our reason columns: expected, so not worth a warning.
        extra = [h for h in match.extra if normalize_header(h) not in EXPORT_COLUMNS]
        warnings = [f"extra columns kept in raw only: {', '.join(extra)}"] if extra else []
        if fmt.encoding == UTF8_WITH_FAULTS:
            warnings.append("UTF-8 but for some bytes: the values holding them are shown as \ufffd and "
                            "their rows quarantined (not_utf8)")
        outcome = BatchOutcome(batch["batch_id"], batch["file_name"], "loaded", warnings=warnings)
        quarantine = QuarantineRowsWriter(self.lake, self.dataset, batch["batch_id"], fmt.header)
        written: list[tuple[str, int]] = []  # curated data files and their rows, committed together
        replay_of = None
        slices = self._slices(parsed, engine)
        try:
            for index, last in enumerate(slices):
                engine.execute(f"CREATE OR REPLACE TEMP VIEW raw_batch AS SELECT _source_line, _raw_line, "
                               f"_field_count, {FLAGS_COLUMN}, {', '.join(cells)} FROM raw_batch_file")
                self._classify(engine, fmt, match)
                if not (index == 0 and last):  # a file read in slices: a row may repeat an earlier slice's
                    for statement in earlier_slices_sql("batch_rows", self.contract.key, first=index == 0, last=last):
                        engine.execute(statement)
                if index == 0:
                    replay_of = self._replay_of(engine, fmt)
                written.append(self._load_slice(engine, batch, fmt, outcome, quarantine))
                if sliced and not last:
                    sliced(outcome.rows_valid + outcome.rows_quarantined + outcome.rows_duplicate)
        except FileRejected as rejected:  # the file turned out unreadable past the slices loaded
            quarantine.abort()
            # the batch is rejected whole: its rows of this or an earlier attempt go (the parse is done)
            for path in [*(data_file for data_file, _rows in written), quarantine.path,
                         raw_dir(self.dataset, batch["batch_id"])]:
                self.lake.storage.delete(path)
            engine.execute(f"DROP TABLE IF EXISTS {SEEN_TABLE}")
            with self._shared:
                return self._reject(batch, parsed.source, rejected)
        except BaseException:
            quarantine.abort()
            raise
        finally:
            slices.close()
        outcome.rows_in = parsed.rows_in  # counted by the parse, done with the last slice
        with self._shared:  # the catalog's quarantine index, one commit at a time to the table, then the run's rows
            quarantine.close()
            # One Delta commit adds the batch's files and removes its rows of any earlier attempt,
            # so a batch run twice is there once.
            self.curated.commit_files(self.dataset, [data_file for data_file, _rows in written],
                                      replace_batch=batch["batch_id"],
                                      metadata={"campuslake.batch_id": batch["batch_id"]})
            for data_file, rows in written:
                if rows:
                    self._collect_run_rows(data_file, rows)
        outcome.source = dict(encoding=fmt.encoding, delimiter=fmt.delimiter, extra_columns=match.extra,
                              blank_lines=fmt.blank_lines, replay_of=replay_of)
        return outcome

    def _slices(self, parsed: ParsedBatch, engine: Engine) -> Iterator[bool]:
        """Register the batch's rows as `raw_batch_file`, slice after slice (rows held in memory
        are one slice; the raw zone's parts come as the parse writes them); yields whether the
        slice is the last."""
        if parsed.rows is not None:
            engine.register("raw_batch_file", parsed.rows)
            try:
                yield True
            finally:
                engine.unregister("raw_batch_file")
            return
        assert parsed.parts is not None
        while True:
            part = parsed.parts.get()
            if isinstance(part, BaseException):
                raise part
            engine.register_parquet("raw_batch_file", self.lake.storage, [part.path])
            yield part.last
            if part.last:
                return

    # --- stages -----------------------------------------------------------------------------
    def _read_rows(self, parsed: ParsedBatch, rows: Iterator[pa.RecordBatch], hand_over: Callable[[], None]) -> None:
        """Take the parsed rows (cells as strings, the line, the field count and the batch's
        lineage) into memory while the budget has room: an engine that scans Arrow in place starts
        on them at once, and write_raw puts them in the raw zone after. A large file, or one the
        budget cannot hold, is streamed to the raw zone here in parts, and the engine reads them
        from there; a large file is handed over (`hand_over`) before its first part is written."""
        batch, fmt, match = parsed.batch, parsed.fmt, parsed.match
        assert fmt is not None and match is not None
        lineage = {"_batch_id": pa.scalar(batch["batch_id"]), "_source_file": pa.scalar(batch["file_name"]),
                   "_ingested_at": pa.scalar(batch["landed_at"], pa.timestamp("us", tz="UTC"))}
        prepared = [present_column(fmt.header[j]) for j in prepared_positions(match)]
        parsed.schema = pa.schema([("_source_line", pa.int64()), ("_raw_line", pa.string()),
                                   ("_field_count", pa.int32()), (FLAGS_COLUMN, pa.int8()),
                                   *[(h, pa.string()) for h in fmt.header],
                                   *[(name, pa.string()) for name in prepared],
                                   *[(name, value.type) for name, value in lineage.items()]])

        def with_lineage(record_batch: pa.RecordBatch) -> pa.RecordBatch:
            parsed.rows_in += record_batch.num_rows
            arrays = [*record_batch.columns, *(pc.fill_null(pa.nulls(record_batch.num_rows, value.type), value)
                                               for value in lineage.values())]
            return pa.RecordBatch.from_arrays(arrays, schema=parsed.schema)

        kept: list[pa.RecordBatch] = []
        small = batch["size_bytes"] <= SMALL_FILE_BYTES
        try:
            for record_batch in map(with_lineage, rows):
                if small and self.held.take(record_batch.nbytes):
                    kept.append(record_batch)
                    parsed.held += record_batch.nbytes
                    continue
                # a large file, or no room: the rows go to the raw zone now, and the engine reads them
                # there; a large one is handed over at once, a small one (one part) once written, so
                # no engine waits on it that could load another file meanwhile
                self._stream_parts(parsed, itertools.chain(kept, [record_batch], map(with_lineage, rows)),
                                   hand_over if not small else lambda: None)
                kept.clear()
                self.held.let_go(parsed)
                return
        except BaseException:
            kept.clear()
            self.held.let_go(parsed)
            raise
        # in slices as small as the raw row groups, for the same parallel scan
        table = pa.Table.from_batches(kept, parsed.schema)
        parsed.rows = parsed.unwritten = pa.Table.from_batches(
            table.to_batches(max_chunksize=RAW_ROW_GROUP_ROWS), parsed.schema)

    def _stream_parts(self, parsed: ParsedBatch, batches: Iterator[pa.RecordBatch],
                      hand_over: Callable[[], None]) -> None:
        """Write the rows to the raw zone in parts of SLICE_ROWS rows, each handed over once
        written; a part is the last when no row follows it (a header and no rows: one empty part)."""
        self.lake.storage.delete(raw_dir(self.dataset, parsed.batch["batch_id"]))
        parsed.parts = queue.SimpleQueue()
        hand_over()
        written: RawPart | None = None
        record_batch = next(batches, None)
        for index in itertools.count():
            if written is not None:
                if record_batch is None:
                    break
                parsed.parts.put(written)  # rows follow: not the last
            rows = 0
            with self._raw_part(parsed, index) as (path, writer):
                while record_batch is not None and rows < SLICE_ROWS:
                    writer.write_batch(record_batch, row_group_size=RAW_ROW_GROUP_ROWS)
                    rows += record_batch.num_rows
                    record_batch = next(batches, None)
            written = RawPart(path, last=False)
        assert written is not None
        parsed.parts.put(RawPart(written.path, last=True))

    def write_raw(self, parsed: ParsedBatch) -> None:
        """Write rows parse kept in memory to the raw zone (the engine may be loading them already)."""
        if parsed.unwritten is not None:
            self._write_file(parsed, parsed.unwritten.to_batches())
            self.held.let_go(parsed, unwritten=True)

    def _write_file(self, parsed: ParsedBatch, batches: Iterable[pa.RecordBatch]) -> None:
        self.lake.storage.delete(raw_dir(self.dataset, parsed.batch["batch_id"]))
        with self._raw_part(parsed, 0) as (_path, writer):
            for record_batch in batches:  # a header and no rows: still an (empty) batch
                writer.write_batch(record_batch, row_group_size=RAW_ROW_GROUP_ROWS)

    @contextmanager
    def _raw_part(self, parsed: ParsedBatch, part: int) -> Iterator[tuple[str, pq.ParquetWriter]]:
        """A writer of the batch's raw part `part`, which appears once complete."""
        path = raw_part_path(self.dataset, parsed.batch["batch_id"], part)
        assert parsed.schema is not None
        with self.lake.storage.open_output(path) as out, pq.ParquetWriter(out, parsed.schema, **RAW_PARQUET) as writer:
            yield path, writer

    def _classify(self, engine: Engine, fmt: SourceFormat, match: HeaderMatch) -> None:
        config = self.lake.settings.normalization
        columns = [c.name for c in self.contract.columns]
        raw = raw_cell_columns(self.contract, match, len(fmt.header))

        def build(lookups: dict[str, str]) -> None:
            sql = classify_sql(self.contract, config, match, fmt.written_header, fmt.delimiter, "raw_batch", lookups)
            engine.execute(f"CREATE OR REPLACE TABLE batch_rows AS {batch_status_sql(f'({sql})', columns, raw)}")

        build({})
        # Phones SQL could not decide were quarantined as bad_phone; libphonenumber gets the last
        # word on their distinct spellings (few). Only when it saves one is the batch classified
        # again, with the answers joined in: the common batch pays for one pass, not two.
        lookups: dict[str, str] = {}
        for spec in self.contract.columns:
            if spec.type != "phone" or spec.name not in match.positions:
                continue
            failed = (f"(SELECT * FROM batch_rows WHERE list_contains(list_transform(_reasons, lambda r: "
                      f"r.code || '/' || r.column), {sql_literal(f'{RowReason.BAD_PHONE.value}/{spec.name}')}))")
            digits = engine.arrow(
                phone_candidates_sql(self.contract, config, match, spec.name, failed)).column("digits").to_pylist()
            resolved = [phone_e164_python(d, config.default_region) for d in digits]
            if any(resolved):
                name = f"phone_lookup_{spec.name}"
                engine.register(name, pa.table({"digits": pa.array(digits, pa.string()),
                                                "e164": pa.array(resolved, pa.string())}))
                lookups[spec.name] = name
        if lookups:
            build(lookups)
        engine.execute(f"UPDATE batch_rows SET _status = 'duplicate' "
                       f"WHERE _source_line IN ({duplicate_lines_sql('batch_rows', columns)})")

    def _load_slice(self, engine: Engine, batch: dict[str, Any], fmt: SourceFormat, outcome: BatchOutcome,
                    quarantine: QuarantineRowsWriter) -> tuple[str, int]:
        """Count a slice's rows into `outcome`, write its quarantined rows and its valid ones: a
        curated data file, committed with the batch's others. Returns the file and its rows."""
        counts = {r["_status"]: r["n"] for r in engine.rows(
            "SELECT _status, count(*) AS n FROM batch_rows GROUP BY _status")}
        outcome.rows_valid += counts.get("valid", 0)
        outcome.rows_quarantined += counts.get("quarantined", 0)
        outcome.rows_duplicate += counts.get("duplicate", 0)
        lineage = (f"{sql_literal(batch['batch_id'])} AS _batch_id, {sql_literal(batch['file_name'])} AS "
                   f"_source_file, _source_line, TIMESTAMPTZ {sql_literal(batch['landed_at'].isoformat())} "
                   f"AS _ingested_at")
        if counts.get("quarantined"):
            reason_counts = {r["code"]: r["n"] for r in engine.rows(
                "SELECT reason.code AS code, count(*) AS n FROM (SELECT unnest(_reasons) AS reason "
                "FROM batch_rows WHERE _status = 'quarantined') GROUP BY 1")}
            cells = ", ".join(f"c{j} AS {sql_identifier(h)}" for j, h in enumerate(fmt.header))
            quarantine.write(engine.reader(f"""
                SELECT {lineage}, _raw_line, {cells}, _reasons,
                    array_to_string(list_transform(_reasons, lambda x: x.code), ';') AS _reason_codes,
                    array_to_string(list_transform(_reasons, lambda x: x.message), '; ') AS _reason
                FROM batch_rows WHERE _status = 'quarantined' ORDER BY _source_line"""), reason_counts)
        columns = ", ".join(sql_identifier(c.name) for c in self.contract.columns)
        valid = f"SELECT {columns}, {lineage} FROM batch_rows WHERE _status = 'valid'"
        data_file = self.curated.new_data_file(self.dataset)
        engine.write_parquet(valid, self.lake.storage, data_file)  # in parallel where the engine can
        engine.execute("DROP TABLE batch_rows")
        return data_file, counts.get("valid", 0)

    def _collect_run_rows(self, data_file: str, rows: int) -> None:
        """Remember this run's curated files; whenever more than REDUCE_EVERY_ROWS rows have piled
        up, fold them into engine table run_rows, the latest row per key, so `_current` is
        refreshed without re-reading the lake and the fold stays about the size of the key set."""
        self._run_files.append(data_file)
        self._run_file_rows += rows
        if self._run_file_rows > REDUCE_EVERY_ROWS:
            latest = latest_by_key_sql(f"({self._run_rows_sql()})", self.contract.key, self.contract.latest_by)
            self.engine.execute(f"CREATE OR REPLACE TABLE run_rows AS {latest}")
            self._has_run_rows = True
            self._run_files, self._run_file_rows = [], 0

    def _run_rows_sql(self) -> str | None:
        """This run's valid rows: the folded table and the files not folded yet (None: no rows)."""
        parts = ["SELECT * FROM run_rows"] if self._has_run_rows else []
        if self._run_files:
            self.engine.register_parquet("run_files", self.lake.storage, self._run_files)
            parts.append("SELECT * FROM run_files")
        return " UNION ALL BY NAME ".join(parts) or None

    def _replay_of(self, engine: Engine, fmt: SourceFormat) -> str | None:
        """A fixed quarantine export names the batch it came from in its origin column."""
        if EXPORT_ORIGIN not in fmt.header:
            return None
        origin = engine.scalar(f"SELECT {sql_identifier(EXPORT_ORIGIN)} FROM raw_batch_file "
                               f"WHERE {sql_identifier(EXPORT_ORIGIN)} IS NOT NULL LIMIT 1")
        return str(origin).split(":", 1)[0] if origin else None

    def _reject(self, batch: dict[str, Any], source: str, rejected: FileRejected) -> BatchOutcome:
        quarantine_file(self.lake, self.dataset, batch, rejected.reason.value, source)
        where = f" (line {rejected.line})" if rejected.line else ""
        return BatchOutcome(batch["batch_id"], batch["file_name"], "rejected", rejected.reason.value,
                            rejected.message + where)

    def refresh_current(self, batch_ids: list[str]) -> None:
        """Fold this run's rows into `<dataset>_current`: the latest row per key wins."""
        new_rows = self._run_rows_sql()
        if new_rows is None:
            return
        table = current_table(self.dataset)
        current = self.curated.files(table)
        if current:
            # A batch run again after a crash may have rows in both: `_origin` tells the copies apart.
            self.engine.register_parquet("current_rows", self.lake.storage, current)
            new_rows = f"SELECT *, 0 AS _origin FROM current_rows UNION ALL BY NAME SELECT *, 1 AS _origin FROM ({new_rows})"
        else:
            new_rows = f"SELECT *, 1 AS _origin FROM ({new_rows})"
        latest = latest_by_key_sql(f"({new_rows})", self.contract.key, self.contract.latest_by, origin="_origin")
        data_file = self.curated.new_data_file(table)
        self.engine.write_parquet(f"SELECT * EXCLUDE (_origin) FROM ({latest})", self.lake.storage, data_file)
        self.curated.commit_files(table, [data_file], overwrite=True,
                                  metadata={"campuslake.batches": ",".join(batch_ids)})

    def record_tables(self) -> None:
        for table, description in [(self.dataset, f"every accepted {self.dataset} row, with lineage"),
                                   (current_table(self.dataset), f"one current {self.dataset} row per key")]:
            version, rows = self.curated.version_and_rows(table)
            if version is not None:
                self.lake.catalog.record_table(table_name=table, dataset=self.dataset, zone="curated",
                                               path=f"curated/{table}", fmt="delta", version=version,
                                               rows=rows, description=description)


def settle_landing(lake: Lake, dataset: str) -> None:
    """Archive, then remove from landing, every file whose batch is done (idempotent)."""
    landed = set(lake.storage.list_files(landing_dir(dataset)))  # one listing, not a stat per batch
    for batch in lake.catalog.batches(dataset):
        source = landing_path(dataset, batch["sha256"])
        if batch["status"] != "pending" and source in landed:
            archive_landed_file(lake.storage, dataset, batch["sha256"])
            lake.storage.delete(source)


def run_pending(lake: Lake, dataset: str = "alumni", *, engine: Engine | None = None,
                progress: ProgressCallback | None = None) -> RunResult:
    """Process every pending batch of `dataset`; returns per-batch accounting.

    One run per dataset and lake at a time: a run holds the catalog lease `run:<dataset>` from
    reading the pending batches to settling them, and a second run raises LeaseHeld instead of
    processing the same batches again (see docs/decisions.md).
    """
    lake.settings.dataset(dataset)  # fail early on an unknown dataset
    with lake.catalog.acquire_lease(f"run:{dataset}"):
        pending = lake.catalog.batches(dataset, status="pending")
        settle_landing(lake, dataset)
        if not pending:
            return RunResult(None, dataset, [])
        own_engine = engine is None
        engine = engine or get_engine(lake.settings.engine)
        run_id = lake.catalog.start_run(dataset)
        outcomes: list[BatchOutcome] = []
        try:
            processor = BatchProcessor(lake, dataset, engine)
            outcomes = _load_batches(processor, lake, dataset, pending, progress)
            if progress:
                progress("updating current rows", len(pending), len(pending))
            processor.refresh_current([o.batch_id for o in outcomes if o.status == "loaded"])
            processor.record_tables()
            finished = utc_now()
            lake.catalog.finish_batches(_ledger_update(o, run_id, finished) for o in outcomes)
            lake.catalog.finish_run(run_id, status="succeeded", batches_done=len(outcomes),
                                    rows_in=sum(o.rows_in for o in outcomes))
        except BaseException as exc:
            lake.catalog.finish_run(run_id, status="failed", batches_done=0, error=str(exc)[:2000])
            raise
        finally:
            if own_engine:
                engine.close()
        settle_landing(lake, dataset)
    return RunResult(run_id, dataset, outcomes)


def _load_batches(processor: BatchProcessor, lake: Lake, dataset: str, pending: list[dict[str, Any]],
                  progress: ProgressCallback | None) -> list[BatchOutcome]:
    """Parse every pending batch on one thread and load them on the engine's batch engines, side
    by side; outcomes in the order of `pending`."""
    # Side by side only while files are small: a batch of 100,000 rows keeps two threads of one
    # engine half idle, one of 625,000 rows does not.
    small = max(batch["size_bytes"] for batch in pending) <= SMALL_FILE_BYTES
    loaders = processor.engine.batch_engines(len(pending) if small else 1)
    free: queue.SimpleQueue[Engine] = queue.SimpleQueue()
    for loader in loaders:
        free.put(loader)
    done = 0
    lock = threading.Lock()

    def load(ready: Future[ParsedBatch], name: str) -> BatchOutcome:
        nonlocal done
        try:
            parsed = ready.result()
            engine = free.get()

            def sliced(rows: int) -> None:
                if progress:
                    progress(f"{name}: {rows:,} rows", done, len(pending))

            try:
                outcome = processor.finish(parsed, engine, sliced)
            finally:
                free.put(engine)
        except BaseException:
            for queued in [*readies, *parses, *loads]:  # at once: a failed run parses and loads no more files
                queued.cancel()
            raise
        with lock:
            done += 1
            if progress:
                progress(name, done, len(pending))
        return outcome

    # Every file is queued at once on one thread (the C splitter and Arrow, mostly outside the
    # GIL) while the engines validate and load them: its parse, and its raw zone (below). Rows
    # kept in memory for the engines stay within a budget, so a parsed file waiting costs little,
    # and a thread that always has work uses the core the engines leave idle between statements
    # (docs/decisions.md). Each file is archived there too, after the rest, rather than all at the
    # end by the main thread; settle_landing then finds the archive written.
    parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="campuslake-parse")
    loading = ThreadPoolExecutor(max_workers=len(loaders), thread_name_prefix="campuslake-load")
    parses: list[Future[ParsedBatch]] = []
    readies: list[Future[ParsedBatch]] = [Future() for _ in pending]  # set by the parse: see parse()
    loads: list[Future[BatchOutcome]] = []
    try:
        # A file's raw zone is written right after its parse, except for the first files, one per
        # engine: those are all parsed first, so no engine waits on a write (~0.15 s a file).
        writes = []
        for i, batch in enumerate(pending):
            parses.append(parser.submit(_timed, "parse", batch, processor.parse, batch, readies[i]))
            if i + 1 >= len(loaders):
                for k in range(len(writes), len(parses)):
                    writes.append(parser.submit(_timed, "raw zone", pending[k],
                                                lambda f=parses[k]: processor.write_raw(f.result())))
        archiving = [*writes, *(parser.submit(_timed, "archive", batch, archive_landed_file, lake.storage,
                                              dataset, batch["sha256"]) for batch in pending)]
        loads += [loading.submit(load, ready, batch["file_name"]) for ready, batch in zip(readies, pending, strict=True)]
        outcomes = [future.result() for future in loads]
        for written in archiving:
            written.result()  # a failure to write the raw zone or archive fails the run
        return outcomes
    except BaseException:
        for pool in (loading, parser):
            pool.shutdown(cancel_futures=True)
        raise
    finally:
        loading.shutdown()
        parser.shutdown()
        for loader in loaders:
            if loader is not processor.engine:
                loader.close()


_T = TypeVar("_T")


def _settle(ready: Future[ParsedBatch] | None, parsed: ParsedBatch | None = None, *,
            error: BaseException | None = None) -> None:
    """Give `ready` its batch or its error, once: a settled one, or one a failing run has
    cancelled, is left as it is."""
    if ready is None or ready.done():
        return
    try:
        if error is not None:
            ready.set_exception(error)
        else:
            ready.set_result(parsed)  # type: ignore[arg-type]
    except InvalidStateError:  # cancelled meanwhile
        pass


def _timed(step: str, batch: dict[str, Any], work: Callable[..., _T], *args: Any) -> _T:
    """`work(*args)`, its seconds on the parse thread logged at DEBUG (for `make bench`'s account)."""
    started = time.perf_counter()
    try:
        return work(*args)
    finally:
        log.debug("parse thread: %s %.3fs %s", step, time.perf_counter() - started, batch["batch_id"])


def _ledger_update(outcome: BatchOutcome, run_id: str, finished: Any) -> dict[str, Any]:
    return dict(
        batch_id=outcome.batch_id, status=outcome.status, reason=outcome.reason, message=outcome.message,
        rows_in=outcome.rows_in, rows_valid=outcome.rows_valid, rows_quarantined=outcome.rows_quarantined,
        rows_duplicate=outcome.rows_duplicate, run_id=run_id, processed_at=finished, **outcome.source,
    )
