"""A read-only SQL session over the curated tables and the answers' views."""

from __future__ import annotations

import re
from typing import Any

from campuslake.engines import Engine, get_engine
from campuslake.errors import EngineError, UsageError
from campuslake.lake.delta import CuratedTables
from campuslake.lake.lake import Lake
from campuslake.serve.answers import answer_views


class QuerySession:
    """Curated Delta tables as views (current version), plus `answer_*` views; nothing can write."""

    def __init__(self, lake: Lake, engine: Engine | None = None) -> None:
        self.lake = lake
        self.engine = engine or get_engine(lake.settings.engine)
        curated = CuratedTables(lake.storage)
        self.tables: list[str] = []
        self.missing: list[str] = []
        """curated tables the configuration declares that no run has written yet"""
        for dataset in lake.settings.datasets:
            for table in (dataset, f"{dataset}_current"):
                files = curated.files(table)
                if files is None:
                    self.missing.append(table)
                    continue
                if files:  # read by the engine itself: nothing is collected on Spark's driver
                    self.engine.register_parquet(table, lake.storage, files)
                else:  # a table without rows yet has no file to read its columns from
                    self.engine.register(table, curated.dataset(table))
                self.tables.append(table)
        if "alumni_current" in self.tables:
            settings = lake.settings
            for name, sql in answer_views(settings.excellent_threshold, settings.top_n_per_department).items():
                self.engine.execute(f"CREATE VIEW {name} AS {sql}")
                self.tables.append(name)
        self.engine.seal()

    def query(self, sql: str) -> list[dict[str, Any]]:
        """The query's rows; a query that is wrong (or writes) is the caller's mistake: UsageError."""
        try:
            if not self.engine.is_read_only(sql):
                raise UsageError("only read-only queries (SELECT, WITH, DESCRIBE, SHOW...) are allowed", sql=sql)
            return self.engine.rows(sql)
        except EngineError as exc:
            if exc.statement_at_fault:
                named = [t for t in self.missing if re.search(rf"\b{re.escape(t)}\b", sql, re.IGNORECASE)]
                hint = (f" ({', '.join(named)} not written yet: ingest files and run `campuslake run` first)"
                        if named else "")
                raise UsageError(f"the query is wrong: {exc.message}{hint}", sql=sql) from exc
            raise

    def require(self, table: str) -> None:
        if table not in self.tables:
            raise UsageError(f"{table} does not exist yet: ingest files and run `campuslake run` first")

    def close(self) -> None:
        self.engine.close()
