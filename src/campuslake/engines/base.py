"""Engine base class: the flow (log, run, wrap errors) is fixed here; backends add primitives."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from campuslake.errors import EngineError

if TYPE_CHECKING:
    from campuslake.lake.storage import LakeStorage

log = logging.getLogger(__name__)

READ_ONLY_KINDS = frozenset({"SELECT", "EXPLAIN", "PRAGMA", "SHOW", "DESCRIBE", "SUMMARIZE"})
ArrowSource = pa.Table | pa.RecordBatchReader | object  # pyarrow.dataset.Dataset included


class Engine(ABC):
    """Runs SQL in the DuckDB dialect and exchanges data as Arrow."""

    name: str = "engine"
    scans_arrow_in_place: bool = False
    """`register` reads Arrow data where it lies in memory: the pipeline then hands the engine a
    batch it has just parsed instead of the engine reading it back from the raw zone"""

    # --- primitives each backend implements -------------------------------------------
    @abstractmethod
    def _execute(self, sql: str) -> None: ...

    @abstractmethod
    def _fetch_arrow(self, sql: str) -> pa.Table: ...

    @abstractmethod
    def _fetch_reader(self, sql: str, batch_size: int) -> pa.RecordBatchReader: ...

    @abstractmethod
    def _register(self, name: str, data: ArrowSource) -> None: ...

    @abstractmethod
    def _unregister(self, name: str) -> None: ...

    @abstractmethod
    def _statement_kinds(self, sql: str) -> list[str]:
        """The kind of each statement in `sql` (SELECT, INSERT, COPY ...), upper-case."""

    @abstractmethod
    def _seal(self) -> None:
        """Forbid access to files and the network from SQL from now on."""

    def close(self) -> None:  # noqa: B027 - optional for backends without resources
        """Release the backend's resources."""

    def batch_engines(self, batches: int) -> list[Engine]:
        """Engines to load up to `batches` batches side by side, sharing this engine's cores and
        memory (the caller closes those that are not this one). By default this engine alone: a
        backend that spreads each statement over a cluster gains nothing from more."""
        return [self]

    # --- the fixed flow ---------------------------------------------------------------
    @contextmanager
    def _statement(self, sql: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        except EngineError:
            raise
        except Exception as exc:  # every backend error becomes an EngineError with its SQL
            raise EngineError(f"{self.name} failed: {exc}", sql=sql.strip(),
                              statement_at_fault=self._statement_at_fault(exc)) from exc
        finally:
            log.debug("%s %.3fs %s", self.name, time.perf_counter() - started, sql.strip()[:200])

    def _statement_at_fault(self, error: Exception) -> bool:
        """The backend's error says the statement is wrong, not that running it failed."""
        return False

    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing of interest (DDL, CREATE TABLE AS ...)."""
        with self._statement(sql):
            self._execute(sql)

    def arrow(self, sql: str) -> pa.Table:
        """Run a query and return its whole result (for small results)."""
        with self._statement(sql):
            return self._fetch_arrow(sql)

    def reader(self, sql: str, batch_size: int = 122_880) -> pa.RecordBatchReader:
        """Run a query and stream its result in record batches (bounded memory).

        Consume the reader before the next statement: an engine runs one statement at a time.
        """
        with self._statement(sql):
            return self._fetch_reader(sql, batch_size)

    def register_parquet(self, name: str, storage: LakeStorage, files: list[str]) -> None:
        """Expose Parquet files of the lake (one schema) to SQL as view `name`.
        Backends override this with their own reader where they can reach the files."""
        import pyarrow.dataset as pads

        self.register(name, pads.dataset([storage.path(f) for f in files], filesystem=storage.fs, format="parquet"))

    def write_parquet(self, sql: str, storage: LakeStorage, relative: str) -> int:
        """Write a query's rows to a Parquet file of the lake, streaming; returns the row count.
        Backends override this with their own (parallel) writer where they can reach the file."""
        count = 0
        reader = self.reader(sql)
        with storage.open_output(relative) as out, pq.ParquetWriter(out, reader.schema, compression="zstd") as writer:
            for batch in reader:
                writer.write_batch(batch)
                count += batch.num_rows
        return count

    def rows(self, sql: str) -> list[dict[str, object]]:
        """Run a small query and return its rows as dicts."""
        return self.arrow(sql).to_pylist()

    def scalar(self, sql: str) -> object:
        table = self.arrow(sql)
        return table.column(0)[0].as_py() if table.num_rows else None

    def register(self, name: str, data: ArrowSource) -> None:
        """Expose Arrow data (table, reader or dataset) to SQL as view `name`."""
        with self._statement(f"-- register {name}"):
            self._register(name, data)

    def unregister(self, name: str) -> None:
        with self._statement(f"-- unregister {name}"):
            self._unregister(name)

    def is_read_only(self, sql: str) -> bool:
        """True when every statement in `sql` only reads."""
        with self._statement(sql):
            kinds = self._statement_kinds(sql)
        return bool(kinds) and all(kind in READ_ONLY_KINDS for kind in kinds)

    def seal(self) -> None:
        """Make the session unable to touch files or the network (for user-supplied SQL)."""
        with self._statement("-- seal"):
            self._seal()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
