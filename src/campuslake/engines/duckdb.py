"""DuckDB engine: the embedded default, in-process, spilling to a temp folder when memory is short."""

from __future__ import annotations

import os
import posixpath
import re
import tempfile

import duckdb
import pyarrow as pa

from campuslake.engines.base import ArrowSource, Engine
from campuslake.lake.storage import LakeStorage
from campuslake.sqltext import sql_identifier, sql_literal
from campuslake.engines.functions import SQL_FUNCTIONS


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?I?B)?\s*", re.IGNORECASE)


def _byte_count(size: str) -> int:
    """Bytes in a DuckDB size setting such as '1GB' or '512MiB' (GB = 1000^3, GiB = 1024^3)."""
    found = _SIZE.fullmatch(size)
    if found is None:
        raise ValueError(f"not a size: {size!r}")
    unit = (found.group(2) or "B").upper()
    power = "BKMGT".index(unit[0]) if unit != "B" else 0
    return int(float(found.group(1)) * (1024 if "I" in unit else 1000) ** power)


class DuckDBEngine(Engine):
    name = "duckdb"
    scans_arrow_in_place = True

    def __init__(self, *, memory_limit: str = "1GB", threads: int | None = None,
                 temp_directory: str | None = None) -> None:
        self._con = duckdb.connect(":memory:")
        self._memory_limit = memory_limit
        self._temp = temp_directory or tempfile.mkdtemp(prefix="campuslake-duckdb-")
        self._registered_files: set[str] = set()  # what register_parquet's views read: still readable once sealed
        settings = {
            "memory_limit": memory_limit,
            "temp_directory": self._temp,
            "TimeZone": "UTC",
            "preserve_insertion_order": "false",
            # DuckDB draws its own bar on stdout once a statement passes 2 s: that broke `--json`
            # output (the CLI shows progress with Rich, on stderr). Printing off, not the bar:
            # setting progress_bar_time turns the bar back on.
            "enable_progress_bar_print": "false",
        }
        if threads:
            settings["threads"] = str(threads)
        for key, value in settings.items():
            self._con.execute(f"SET {key} = '{value}'")
        self._threads = int(self._con.execute("SELECT current_setting('threads')").fetchall()[0][0])
        varchar = duckdb.sqltype("VARCHAR")
        for name, (arity, function) in SQL_FUNCTIONS.items():
            self._con.create_function(name, function, [varchar] * arity, varchar, type="arrow",
                                      side_effects=False)

    def batch_engines(self, batches: int) -> list[Engine]:
        """One single-threaded DuckDB per core (or per batch, when fewer), each with its share of
        the memory: two batches of 100,000 rows classified side by side on one thread each took
        0.45 s, one after the other on two threads each 0.62-0.74 s (docs/decisions.md)."""
        count = min(batches, self._threads)
        if count <= 1:
            return [self]
        share = f"{_byte_count(self._memory_limit) // count}B"
        return [DuckDBEngine(memory_limit=share, threads=self._threads // count) for _ in range(count)]

    def _execute(self, sql: str) -> None:
        self._con.execute(sql)

    def _fetch_arrow(self, sql: str) -> pa.Table:
        return self._con.sql(sql).to_arrow_table()

    def register_parquet(self, name: str, storage: LakeStorage, files: list[str]) -> None:
        if not storage.is_local:
            super().register_parquet(name, storage, files)
            return
        # DuckDB's own reader: its buffers count against memory_limit, which an Arrow scan's
        # read-ahead does not (a 2M-row fold peaked ~300 MiB higher through Arrow)
        self._registered_files.update(storage.path(f) for f in files)
        paths = ", ".join(sql_literal(storage.path(f)) for f in files)
        self.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet([{paths}])")

    def write_parquet(self, sql: str, storage: LakeStorage, relative: str) -> int:
        if not storage.is_local:  # DuckDB reaches object storage only through the storage seam
            return super().write_parquet(sql, storage, relative)
        target = storage.path(relative)
        storage.make_dirs(posixpath.dirname(relative))
        staging = target + ".partial"  # complete files only under their name, as LakeStorage does
        # zstd level 1: half the time of DuckDB's default level 3 for ~20% larger files
        copy = f"COPY ({sql}) TO {sql_literal(staging)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)"
        with self._statement(copy):
            count = self._con.execute(copy).fetchall()[0][0]
        os.replace(staging, target)
        return int(count)

    def _fetch_reader(self, sql: str, batch_size: int) -> pa.RecordBatchReader:
        return self._con.sql(sql).to_arrow_reader(batch_size)

    def _register(self, name: str, data: ArrowSource) -> None:
        # a view register_parquet made under this name would make register() fail
        self._con.execute(f"DROP VIEW IF EXISTS {sql_identifier(name)}")
        self._con.register(name, data)

    def _unregister(self, name: str) -> None:
        self._con.unregister(name)

    def _statement_at_fault(self, error: Exception) -> bool:
        # syntax, names, casts and what the sealed session does not allow. Not "invalid input":
        # DuckDB says that of a damaged file too, as of I/O, memory and its own faults.
        return isinstance(error, (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException,
                                  duckdb.DataError, duckdb.PermissionException))

    def _statement_kinds(self, sql: str) -> list[str]:
        return [statement.type.name.upper() for statement in self._con.extract_statements(sql)]

    def _seal(self) -> None:
        if self._registered_files:  # exactly those files: the views over them keep working
            paths = ", ".join(sql_literal(p) for p in sorted(self._registered_files))
            self._con.execute(f"SET allowed_paths = [{paths}]")
        self._con.execute("SET enable_external_access = false")
        self._con.execute("SET lock_configuration = true")

    def close(self) -> None:
        self._con.close()
