"""Spark engine: campuslake's DuckDB-dialect SQL translated by the dialect layer and run on PySpark."""

from __future__ import annotations

import os
import posixpath
import shutil
import sys
import uuid
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from campuslake.engines import dialect
from campuslake.engines.base import ArrowSource, Engine
from campuslake.engines.functions import SQL_FUNCTIONS
from campuslake.errors import ConfigError
from campuslake.lake.storage import LakeStorage

try:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.functions import arrow_udf, spark_partition_id
except ImportError as exc:  # the optional extra
    raise ConfigError("the Spark engine needs PySpark: pip install 'campuslake[spark]'") from exc

SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",  # DuckDB runs in UTC too; try_strptime relies on it
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",  # not INT96: Delta and Arrow read micros
    "spark.sql.parquet.compression.codec": "zstd",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.useLargeVarTypes": "false",  # the Arrow types DuckDB returns
    # A 100,000-row batch is a ~5 MB raw file of 4 row groups (3 full). Spark's default split
    # (4 MB at least, 2 splits) gave one task 3 of them, so one core ran the batch while the other
    # idled; splits this small give each row group its own task (61 s against 73 s, 200,000 rows).
    "spark.sql.files.openCostInBytes": "1MB",
}
SPLITS_PER_CORE = 4
"""spark.sql.files.minPartitionNum = this x cores: splits of a small file down to its row groups"""
TRANSLATIONS_KEPT = 64
"""translations kept: pipeline SQL repeats per batch, and sqlglot takes ~0.45 s on the classify SQL"""
BLOCKED_WHEN_SEALED = frozenset({"reflect", "java_method", "try_reflect"})
"""functions that reach the JVM (files, network) from SQL"""


def local_session(master: str = "local[*]") -> SparkSession:
    """A local-mode Spark session (the machine's Java), without the web UI."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers import campuslake's functions
    return (SparkSession.builder.master(master).appName("campuslake")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", str(os.cpu_count() or 2))
            .getOrCreate())


class SealedSessionError(Exception):
    """The statement calls what a sealed session does not allow (reading files by name)."""


class SparkEngine(Engine):
    name = "spark"

    def __init__(self, *, session: SparkSession | None = None, master: str = "local[*]") -> None:
        base = session or SparkSession.getActiveSession()
        self._owns_context = base is None
        # A session of its own (shared JVM and executors): temp views, functions and settings
        # of two engines never mix.
        self._spark = (base or local_session(master)).newSession()
        for key, value in SESSION_CONF.items():
            self._spark.conf.set(key, value)
        self._spark.conf.set("spark.sql.files.minPartitionNum",
                             str(SPLITS_PER_CORE * self._spark.sparkContext.defaultParallelism))
        for name, (_arity, function) in SQL_FUNCTIONS.items():
            self._spark.udf.register(name, arrow_udf(function, "string"))
        self._tables: dict[str, DataFrame] = {}
        """views this engine materialized (CREATE TABLE), to release when dropped"""
        self._sealed = False
        self._translations: dict[str, list[dialect.SparkStatement]] = {}
        """SQL -> its translation, for SQL whose translation asked Spark for no columns"""

    # --- translation ------------------------------------------------------------------------
    def _columns_of(self, sql: str) -> list[str]:
        return self._spark.sql(sql).columns  # analyzed, not run

    def _translate(self, sql: str) -> list[dialect.SparkStatement]:
        cached = self._translations.get(sql)  # emptied at seal: kept SQL was checked under its rules
        if cached is not None:
            return cached
        trees = dialect.statements(sql)
        if self._sealed:
            for tree in trees:
                for function in tree.find_all(dialect.exp.Anonymous):
                    if function.name.lower() in BLOCKED_WHEN_SEALED:
                        raise SealedSessionError(f"{function.name}() is not allowed in this session")
        asked: list[str] = []

        def columns_of(query: str) -> list[str]:
            asked.append(query)
            return self._columns_of(query)

        translated = dialect.to_spark(trees, columns_of)
        # A translation that needed the columns of views depends on what they hold now: not kept.
        if not asked:
            if len(self._translations) >= TRANSLATIONS_KEPT:
                self._translations.pop(next(iter(self._translations)))  # the oldest
            self._translations[sql] = translated
        return translated

    def _query(self, sql: str) -> DataFrame:
        translated = self._translate(sql)
        if len(translated) != 1 or translated[0].kind != "sql":
            raise ValueError("expected one query")
        return self._spark.sql(translated[0].sql)

    # --- primitives -------------------------------------------------------------------------
    def _execute(self, sql: str) -> None:
        for statement in self._translate(sql):
            self._run(statement)

    def _run(self, statement: dialect.SparkStatement) -> None:
        kind, name = statement.kind, statement.name
        if kind == "sql":
            self._spark.sql(statement.sql)
        elif kind in ("table", "update"):
            # Materialized with its lineage cut: replacing a view it was computed from (the next
            # batch's raw_batch_file) must not change it, as it would not change a DuckDB table.
            rows = self._spark.sql(statement.sql).localCheckpoint(eager=True)
            self._drop(name, if_exists=True)
            self._keep(name, rows)
        elif kind == "rename":
            rows = self._tables.pop(name, None) or self._spark.table(name)
            self._spark.catalog.dropTempView(name)
            self._keep(statement.target, rows)
        elif kind == "drop":
            self._drop(name, statement.if_exists)
        elif kind == "copy":
            self._write(self._spark.sql(statement.sql), statement.target)

    def _keep(self, name: str, rows: DataFrame) -> None:
        rows.createOrReplaceTempView(name)
        self._tables[name] = rows

    def _drop(self, name: str, if_exists: bool) -> None:
        if not self._spark.catalog.dropTempView(name) and not if_exists:
            raise ValueError(f"table {name} does not exist")
        rows = self._tables.pop(name, None)
        if rows is not None:
            rows.unpersist()

    def _fetch_arrow(self, sql: str) -> pa.Table:
        return self._query(sql).toArrow()

    def _fetch_reader(self, sql: str, batch_size: int) -> pa.RecordBatchReader:
        """The rows a partition at a time: PySpark hands a result to the driver whole, so the
        query is computed once (a local checkpoint, whose partitions keep an ORDER BY's ranges
        in order) and each partition is fetched on its own; the driver holds one at a time."""
        rows = self._query(sql).localCheckpoint()
        schema = rows.limit(0).toArrow().schema

        def partitions() -> Iterator[pa.RecordBatch]:
            try:
                for partition in range(rows.rdd.getNumPartitions()):
                    part = rows.where(spark_partition_id() == partition).toArrow()
                    yield from part.cast(schema).to_batches(batch_size)
            finally:
                rows.unpersist()

        return pa.RecordBatchReader.from_batches(schema, partitions())

    def _register(self, name: str, data: ArrowSource) -> None:
        if isinstance(data, pa.RecordBatchReader):
            data = data.read_all()
        if isinstance(data, pa.Table):
            rows = self._spark.createDataFrame(data)
        elif isinstance(getattr(data, "filesystem", None), pafs.LocalFileSystem):
            rows = self._spark.read.parquet(*data.files)  # a dataset of local files: Spark reads them
        else:
            rows = self._spark.createDataFrame(data.to_table())  # type: ignore[attr-defined]
        rows.createOrReplaceTempView(name)

    def _unregister(self, name: str) -> None:
        self._spark.catalog.dropTempView(name)

    def register_parquet(self, name: str, storage: LakeStorage, files: list[str]) -> None:
        if not storage.is_local:
            raise NotImplementedError("the Spark engine reads local lakes only for now")
        with self._statement(f"-- register {name}"):
            self._spark.read.parquet(*[storage.path(f) for f in files]).createOrReplaceTempView(name)

    def write_parquet(self, sql: str, storage: LakeStorage, relative: str) -> int:
        if not storage.is_local:
            raise NotImplementedError("the Spark engine writes local lakes only for now")
        with self._statement(sql):
            return self._write(self._query(sql), storage.path(relative))

    def _write(self, rows: DataFrame, target: str) -> int:
        """Write `rows` as the one Parquet file `target`: Spark writes a folder of part files (in
        parallel, on the executors), here a folder next to the target (a `_` name, which Delta
        readers ignore), and the part is moved into place."""
        rows = rows.repartition(1)  # one part file; the plan before the shuffle stays parallel
        staging = posixpath.join(posixpath.dirname(target), f"_spark-{uuid.uuid4().hex}")
        try:
            rows.write.mode("errorifexists").parquet(staging)
            (part,) = [f for f in os.listdir(staging) if f.startswith("part-") and f.endswith(".parquet")]
            os.replace(posixpath.join(staging, part), target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return pq.read_metadata(target).num_rows

    def _statement_at_fault(self, error: Exception) -> bool:
        # the DuckDB-dialect parse, a function the sealed session blocks, Spark's analysis (names, types)
        from pyspark.errors import AnalysisException
        from sqlglot.errors import ParseError

        return isinstance(error, (ParseError, SealedSessionError, AnalysisException))

    def _statement_kinds(self, sql: str) -> list[str]:
        return [dialect.statement_kind(tree) for tree in dialect.statements(sql)]

    def _seal(self) -> None:
        self._spark.conf.set("spark.sql.runSQLOnFiles", "false")  # no parquet.`/path` in SQL
        self._sealed = True
        self._translations.clear()

    def close(self) -> None:
        for name in list(self._tables):
            self._drop(name, if_exists=True)
        if self._owns_context:
            self._spark.stop()
