"""DuckDB engine: the embedded default, in-process, spilling to a temp folder when memory is short."""

from __future__ import annotations

import tempfile

import duckdb
import pyarrow as pa

from campuslake.engines.base import ArrowSource, Engine
from campuslake.engines.functions import SQL_FUNCTIONS


class DuckDBEngine(Engine):
    name = "duckdb"

    def __init__(self, *, memory_limit: str = "1GB", threads: int | None = None,
                 temp_directory: str | None = None) -> None:
        self._con = duckdb.connect(":memory:")
        self._temp = temp_directory or tempfile.mkdtemp(prefix="campuslake-duckdb-")
        settings = {
            "memory_limit": memory_limit,
            "temp_directory": self._temp,
            "TimeZone": "UTC",
            "preserve_insertion_order": "false",
        }
        if threads:
            settings["threads"] = str(threads)
        for key, value in settings.items():
            self._con.execute(f"SET {key} = '{value}'")
        varchar = duckdb.sqltype("VARCHAR")
        for name, (arity, function) in SQL_FUNCTIONS.items():
            self._con.create_function(name, function, [varchar] * arity, varchar, type="arrow",
                                      side_effects=False)

    def _execute(self, sql: str) -> None:
        self._con.execute(sql)

    def _fetch_arrow(self, sql: str) -> pa.Table:
        return self._con.sql(sql).to_arrow_table()

    def _fetch_reader(self, sql: str, batch_size: int) -> pa.RecordBatchReader:
        return self._con.sql(sql).to_arrow_reader(batch_size)

    def _register(self, name: str, data: ArrowSource) -> None:
        self._con.register(name, data)

    def _unregister(self, name: str) -> None:
        self._con.unregister(name)

    def _statement_kinds(self, sql: str) -> list[str]:
        return [statement.type.name.upper() for statement in self._con.extract_statements(sql)]

    def _seal(self) -> None:
        self._con.execute("SET enable_external_access = false")
        self._con.execute("SET lock_configuration = true")

    def close(self) -> None:
        self._con.close()
